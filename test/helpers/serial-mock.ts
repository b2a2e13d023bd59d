/**
 * A fault-injecting serial port for unit tests (STYLE.md: simulators plug in at the port),
 * wrapping serialport's MockBinding: opens that fail or hang, closes that never call back,
 * and an unplugged adapter (pending reads fail with EIO, as the Linux binding reports it).
 *
 * The MockBinding is taken from `SerialPortMock.binding` (serialport 13 re-exports
 * `@serialport/binding-mock` there). Importing `@serialport/binding-mock` directly from ESM
 * gives its separate ESM build, untyped under NodeNext (its `exports` has no `types`) and with
 * its own port registry: a port created there does not exist for the CJS copy.
 */
import { SerialPortMock } from 'serialport';

const MockBinding = SerialPortMock.binding;
type MockBindingInterface = typeof MockBinding;
export type MockPortBinding = Awaited<ReturnType<MockBindingInterface['open']>>;

export interface MockSerial {
  binding: MockBindingInterface;
  /** Port bindings opened so far, latest last. */
  opened: MockPortBinding[];
  /** The next this many opens fail as if the adapter were absent. */
  failOpens: number;
  /** Opens never complete. */
  hangOpens: boolean;
  /** close() never completes (as some USB serial adapters' do). */
  hangCloses: boolean;
  /** The latest opened port binding; throws if none is open. */
  latest(): MockPortBinding;
  /** Pull the adapter: the latest port's pending and later reads fail with EIO. */
  unplug(): void;
  /** Resolves once `n` opens have succeeded. */
  waitForOpens(n: number, timeoutMs?: number): Promise<void>;
}

export function mockSerial(path: string): MockSerial {
  MockBinding.reset();
  MockBinding.createPort(path, { echo: false, record: false });
  const unplugs = new WeakMap<MockPortBinding, () => void>();
  const rig: MockSerial = {
    opened: [],
    failOpens: 0,
    hangOpens: false,
    hangCloses: false,
    binding: {
      reset: () => MockBinding.reset(),
      createPort: (p, o) => MockBinding.createPort(p, o),
      list: () => MockBinding.list(),
      async open(options) {
        if (rig.hangOpens) return new Promise<never>(() => undefined);
        if (rig.failOpens > 0) {
          rig.failOpens--;
          throw Object.assign(new Error(`ENOENT: no such file or directory, open '${options.path}' (simulated)`), { code: 'ENOENT' });
        }
        const port = await MockBinding.open(options);
        let fail: (err: Error) => void = () => undefined;
        const failed = new Promise<never>((_, reject) => (fail = reject));
        failed.catch(() => undefined);
        const read = port.read.bind(port);
        port.read = (buffer, offset, length) => Promise.race([read(buffer, offset, length), failed]);
        const close = port.close.bind(port);
        port.close = () => (rig.hangCloses ? new Promise<never>(() => undefined) : close());
        unplugs.set(port, () => fail(Object.assign(new Error('EIO: i/o error, read (simulated unplug)'), { code: 'EIO' })));
        rig.opened.push(port);
        return port;
      },
    },
    latest() {
      const port = rig.opened.at(-1);
      if (!port?.isOpen) throw new Error('no open mock port');
      return port;
    },
    unplug() {
      unplugs.get(rig.latest())?.();
    },
    waitForOpens(n, timeoutMs = 5000) {
      return new Promise((resolve, reject) => {
        const t0 = Date.now();
        const check = (): void => {
          if (rig.opened.length >= n && rig.opened.at(-1)?.isOpen) resolve();
          else if (Date.now() - t0 > timeoutMs) reject(new Error(`${rig.opened.length} of ${n} opens after ${timeoutMs} ms`));
          else setTimeout(check, 5);
        };
        check();
      });
    },
  };
  return rig;
}
