"""`ocpp-bench bench`: our CSMS beside a bare reference CSMS, driven by one load generator."""
