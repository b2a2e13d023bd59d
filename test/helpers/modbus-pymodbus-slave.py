"""A Modbus TCP slave made with Debian's pymodbus (3.0.0rc1), for tests against an implementation
nobody here wrote. Run with /usr/bin/python3 (Debian's package installs for that interpreter).

stdin, first line: JSON {"units": {"<unit>": {"co": {"<addr>": 0|1}, "di": {...}, "hr": {"<addr>": word}, "ir": {...}}}}
stdout: "ready <port>" once listening on 127.0.0.1 (port chosen by the OS).
Runs until stdin closes or SIGTERM. Addresses are 0-based: every ModbusSlaveContext is built with
zero_mode=True (without it pymodbus 3.0.0rc1 shifts every address by one).
"""
import asyncio
import json
import signal
import sys

from pymodbus.datastore import ModbusServerContext, ModbusSlaveContext, ModbusSparseDataBlock
from pymodbus.server.async_io import ModbusTcpServer


def block(values):
    return ModbusSparseDataBlock({int(a): int(v) for a, v in values.items()})


async def main():
    spec = json.loads(sys.stdin.readline())
    slaves = {}
    for unit, tables in spec["units"].items():
        blocks = {k: block(tables.get(k, {})) for k in ("co", "di", "hr", "ir")}
        slaves[int(unit)] = ModbusSlaveContext(zero_mode=True, **blocks)
    context = ModbusServerContext(slaves=slaves, single=False)
    server = ModbusTcpServer(context, address=("127.0.0.1", 0))
    serving = asyncio.create_task(server.serve_forever())
    await server.serving
    port = server.server.sockets[0].getsockname()[1]
    print(f"ready {port}", flush=True)

    loop = asyncio.get_running_loop()
    done = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, done.set)
    loop.add_reader(sys.stdin.fileno(), lambda: sys.stdin.read(1) or done.set())
    await done.wait()
    await server.shutdown()
    serving.cancel()


asyncio.run(main())
