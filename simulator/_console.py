"""`ocpp-bench sim run`: one charge point in the terminal, its traffic printed, driven by
stdin commands or by a scripted session."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TextIO

from ocppj import RpcError

from .clock import wait_any
from .errors import SimulatorError
from .station import Station
from .transcript import Entry
from .v201 import Behaviour201

# The console's commands (N: a connector number, 1 when left out) and what each does.
COMMANDS = (
    ("plug N", "plug a cable in (a transaction starts if a tag was authorized here)"),
    ("unplug N", "pull the cable out (ends the transaction: StopTransactionOnEVSideDisconnect)"),
    ("tag N TAG", "present an id tag: Authorize and StartTransaction, or stop with the same tag"),
    ("stop N", "end the transaction (reason Local)"),
    ("suspend N ev|evse", "pause the energy flow: SuspendedEV or SuspendedEVSE"),
    ("resume N", "let the energy flow again"),
    ("fault N [ERRORCODE]", "raise a fault (default OtherError): Faulted"),
    ("clear N", "clear the fault"),
    (
        "ev N arrive|leave",
        "2.0.1: an EV in the parking bay or gone (TxStartPoint ParkingBayOccupancy)",
    ),
    ("offline", "lose the network (no closing handshake); transaction messages are queued"),
    ("online", "regain the network: reconnect, deliver the queue"),
    ("reboot [soft|hard]", "restart as after a Reset: end transactions, reconnect, boot"),
    ("power-loss", "cut the power: the link drops; transactions end with reason PowerLoss"),
    ("status", "the link, the registration and each connector's status and meter (at once)"),
    ("help", "this list"),
    ("quit", "close cleanly and exit at once (also Ctrl-C or SIGTERM)"),
)
HELP = "commands (N = connector number, 1 if left out):\n" + "\n".join(
    f"  {syntax:<20} {what}" for syntax, what in COMMANDS
)


def printer(out: TextIO) -> Callable[[Entry], None]:
    """Print each frame readably: time, direction, kind, action, payload."""

    def show(entry: Entry) -> None:
        arrow = {"out": "CP  -> CSMS", "in": "CSMS -> CP "}.get(entry.direction, "-----------")
        frame = entry.frame
        body = entry.payload
        if body is None and frame is not None and hasattr(frame, "code"):
            text = f"{frame.code}: {getattr(frame, 'description', '')}"
        elif body is None:
            text = entry.text
        else:
            text = json.dumps(body, separators=(", ", ": "))
        stamp = entry.at.strftime("%H:%M:%S.%f")[:-3]
        print(
            f"{stamp} {arrow} {entry.kind:<10} {entry.action or '?':<28} {text}",
            file=out,
            flush=True,
        )

    return show


def status_lines(cp: Station) -> list[str]:
    state = "online" if cp.online else "connected" if cp.connected else "offline"
    lines = [f"{cp.identity}: {state}, registration {cp.registration}, queued {cp.queued}"]
    for n, c in cp.connectors.items():
        tx = c.transaction
        extra = f" tx {tx.transaction_id} tag {tx.id_tag}" if tx else ""
        power = f" {c.meter.power_w / 1000:.1f} kW {c.meter.energy_wh / 1000:.3f} kWh" if n else ""
        lines.append(f"  connector {n}: {c.status}{extra}{power}")
    return lines


async def execute(cp: Station, line: str, out: TextIO) -> bool:
    """Run one command line; False when it asks to quit."""
    words = line.split()
    if not words:
        return True
    verb, args = words[0].lower(), words[1:]

    def n(i: int = 0) -> int:
        return int(args[i]) if len(args) > i else 1

    actions: dict[str, Callable[[], Awaitable[object]]] = {
        "plug": lambda: cp.plug_in(n()),
        "unplug": lambda: cp.unplug(n()),
        "tag": lambda: cp.present_tag(n(), args[1] if len(args) > 1 else args[0]),
        "stop": lambda: cp.stop_charging(n()),
        "suspend": lambda: cp.suspend(n(), args[1] if len(args) > 1 else "EV"),
        "resume": lambda: cp.resume(n()),
        "fault": lambda: cp.fault(n(), args[1] if len(args) > 1 else "OtherError"),
        "clear": lambda: cp.clear_fault(n()),
        "ev": lambda: parking_bay(cp, n(), args[1] if len(args) > 1 else "arrive"),
        "offline": cp.go_offline,
        "online": lambda: cp.go_online(30),
        "reboot": lambda: cp.reboot((args[0] if args else "soft").capitalize(), 30),
        "power-loss": lambda: cp.power_loss(30),
    }
    if verb in ("quit", "exit"):
        return False
    if verb == "help":
        print(HELP, file=out)
    elif verb == "status":
        print("\n".join(status_lines(cp)), file=out)
    elif verb in actions:
        try:
            result = await actions[verb]()
        except (SimulatorError, RpcError, ValueError, IndexError) as exc:
            print(f"! {verb}: {exc}", file=out)
        else:
            if result is not None:
                print(f"= {result}", file=out)
    else:
        print(f"! unknown command {verb!r}; try help", file=out)
    return True


async def parking_bay(cp: Station, number: int, what: str) -> None:
    """An EV detected in the parking bay of connector `number`, or gone (2.0.1 only)."""
    behaviour = cp.behaviour
    if not isinstance(behaviour, Behaviour201):
        raise SimulatorError(f"the parking bay is OCPP 2.0.1's, not {behaviour.version}'s")
    if what.lower() not in ("arrive", "leave"):
        raise SimulatorError(f"ev {number} arrive or leave, not {what!r}")
    if what.lower() == "arrive":
        await behaviour.ev_detected(number)
    else:
        await behaviour.ev_departed(number)


async def stdin_lines() -> asyncio.StreamReader | None:
    """A reader on stdin, or None when stdin cannot be read asynchronously (e.g. a file)."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    try:
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    except (ValueError, OSError):
        return None
    return reader


async def run_console(
    cp: Station, *, session: tuple[str, float] | None, interactive: bool, out: TextIO
) -> int:
    """Run `cp` until quit, end of the session, Ctrl-C or SIGTERM; clean shutdown in all cases."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    cp.on_frame = printer(out)
    cp.on_connect_failed = connect_failed(cp, out)
    runner = asyncio.create_task(cp.run())
    outcome = 0
    try:
        async with asyncio.TaskGroup() as group:
            if session is not None:
                scripted = group.create_task(_session(cp, session, stop, out))
            if interactive:
                group.create_task(_commands(cp, stop, out))
            waiter = group.create_task(stop.wait())
            await asyncio.wait({waiter, runner}, return_when=asyncio.FIRST_COMPLETED)
            stop.set()
        if session is not None and not scripted.result():
            outcome = 1
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        await cp.close()
        await runner
    return outcome


def connect_failed(cp: Station, out: TextIO) -> Callable[[str, float], None]:
    """Say at once why a connection attempt failed, and when the next one is."""

    def show(why: str, delay: float) -> None:
        line = f"! connect to {cp.endpoint_url} failed: {why}; retrying in {delay:.1f} s"
        print(line, file=out, flush=True)

    return show


async def _session(
    cp: Station, session: tuple[str, float], stop: asyncio.Event, out: TextIO
) -> bool:
    """The scripted session, once booted (it waits, retrying, until then or a stop); True
    unless a step failed (said on `out`)."""
    tag, seconds = session
    await wait_any(cp.ready, stop)
    if stop.is_set():
        return True
    try:
        if not cp.connector(1).plugged:
            await cp.plug_in(1)
        info = await cp.present_tag(1, tag)
        print(f"= session: {tag} {info.get('status')}", file=out, flush=True)
        await wait_any(stop, timeout=seconds)
        if cp.transaction(1) is not None:
            await cp.stop_charging(1)
        await cp.unplug(1)
    except (SimulatorError, RpcError) as exc:
        print(f"! session: {type(exc).__name__}: {exc}", file=out, flush=True)
        return False
    finally:
        stop.set()
    print("= session done", file=out, flush=True)
    return True


IMMEDIATE = frozenset({"status", "help", "quit", "exit"})  # answered at once, whatever runs


async def _commands(cp: Station, stop: asyncio.Event, out: TextIO) -> None:
    """Read commands from the start (before the first connection too). The driver's actions
    run one after another in a worker; `status`, `help` and `quit` are answered at once, also
    while an action waits (for a boot, an answer, a reconnect). At the end of the input the
    actions read so far still run."""
    reader = await stdin_lines()
    if reader is None:
        return
    queued: asyncio.Queue[str] = asyncio.Queue()
    worker = asyncio.create_task(_worker(cp, queued, out), name="console actions")
    try:
        while not stop.is_set():
            read = asyncio.ensure_future(reader.readline())
            halt = asyncio.ensure_future(stop.wait())
            await asyncio.wait({read, halt}, return_when=asyncio.FIRST_COMPLETED)
            halt.cancel()
            if not read.done():
                read.cancel()
                return
            raw = read.result()
            if not raw:  # end of input: the actions read run; then on until a signal
                await _until(queued.join(), stop)
                return
            line = raw.decode(errors="replace")
            words = line.split()
            if words and words[0].lower() in IMMEDIATE:
                if not await execute(cp, line, out):
                    stop.set()
            elif words:
                queued.put_nowait(line)
    finally:
        worker.cancel()
        await asyncio.gather(worker, return_exceptions=True)


async def _worker(cp: Station, queued: asyncio.Queue[str], out: TextIO) -> None:
    while True:
        line = await queued.get()
        try:
            await execute(cp, line, out)
        finally:
            queued.task_done()


async def _until(work: Coroutine[Any, Any, None], stop: asyncio.Event) -> None:
    """`work`, unless `stop` is set first."""
    done = asyncio.ensure_future(work)
    halt = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({done, halt}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        done.cancel()
        halt.cancel()
