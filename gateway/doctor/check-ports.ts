/**
 * The box's own listening ports (MQTT, MQTT over WebSocket, the panel) are free, or held by the
 * box itself: a Mosquitto installed with the OS, or a second box, on 1883 leaves the box
 * without its broker (the supervisor retries forever, and the devices talk to the wrong one).
 * A free port is tried by binding it for a moment, as the box would; a taken one is traced to
 * its process through /proc.
 */
import { createServer } from 'node:net';
import type { DoctorContext } from './context.ts';
import { holdersOf, listeningInodes } from './proc.ts';
import { said, type CheckResult } from './types.ts';

function tryBind(host: string, port: number): Promise<'free' | string> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
    s.listen({ host, port, exclusive: true }, () => s.close(() => resolve('free')));
  });
}

export async function portChecks(ctx: DoctorContext): Promise<CheckResult[]> {
  const { mqtt, panel } = ctx.config;
  const wanted: { port: number; host: string; name: ReturnType<typeof said> }[] = [{ port: mqtt.port, host: mqtt.host, name: said('MQTT', 'MQTT') }];
  if (mqtt.wsPort) wanted.push({ port: mqtt.wsPort, host: mqtt.host, name: said('MQTT WebSocket', 'MQTT WebSocket') });
  if (panel && panel.port) wanted.push({ port: panel.port, host: panel.host, name: said('面板', 'panel') });
  const out: CheckResult[] = [];
  for (const w of wanted) {
    const id = `port:${w.port}`;
    const what = said(`本地 ${w.name.zh} 端口 ${w.port}`, `local ${w.name.en} port ${w.port}`);
    const bound = await tryBind(w.host, w.port);
    if (bound === 'free') {
      out.push({ id, status: 'pass', what, said: said('空闲', 'free'), figures: { free: true } });
      continue;
    }
    if (bound === 'EACCES') {
      out.push({ id, status: 'fail', what, said: said('没有权限监听(小于 1024 的端口要 root)', 'no permission to listen (ports under 1024 need root)'), fix: said('换一个端口,或给 node 加 CAP_NET_BIND_SERVICE', 'use another port, or give node CAP_NET_BIND_SERVICE') });
      continue;
    }
    if (bound === 'EADDRNOTAVAIL') {
      out.push({ id, status: 'fail', what, said: said(`本机没有地址 ${w.host}`, `this machine has no address ${w.host}`), fix: said('改配置里的 host(0.0.0.0 为所有网卡)', "fix the config's host (0.0.0.0 is every interface)") });
      continue;
    }
    const inodes = listeningInodes(w.port, ctx.o.procRoot);
    const { byTarget, unreadable } = holdersOf(inodes, ctx.o.procRoot);
    const holders = [...byTarget.values()].flat();
    const box = holders.find((h) => h.box);
    const other = holders.find((h) => !h.box);
    if (other) {
      out.push({
        id,
        status: 'fail',
        what,
        said: said(`被另一个程序占用(pid ${other.pid}: ${other.command.slice(0, 60)})`, `taken by another program (pid ${other.pid}: ${other.command.slice(0, 60)})`),
        fix: said('停掉并禁用它(例如 systemctl disable --now mosquitto),或改哨兵的端口', 'stop and disable it (e.g. systemctl disable --now mosquitto), or change the box’s port'),
        figures: { free: false, pid: other.pid },
      });
    } else if (box) {
      out.push({ id, status: 'pass', what, said: said(`哨兵自己在用(pid ${box.pid})`, `in use by the box itself (pid ${box.pid})`), figures: { free: false, pid: box.pid } });
    } else {
      out.push({
        id,
        status: 'fail',
        what,
        said: said(`被占用,看不到是谁${unreadable ? '(权限不够)' : ''}`, `taken, by a process the doctor cannot see${unreadable ? ' (not enough permission)' : ''}`),
        fix: said('用 root 运行 doctor,或 ss -ltnp 查看', 'run the doctor as root, or look with ss -ltnp'),
        figures: { free: false },
      });
    }
  }
  return out;
}
