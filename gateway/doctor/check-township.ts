/**
 * The township broker is reachable and accepts the box's credentials: one MQTT connection with
 * the uplink's own URL, account, password file and TLS files (uplink/link.ts tlsOptions), within
 * a deadline, and its CONNACK in words (connack.ts). Unlike the uplink it sets no last will (a
 * will published if this connection died would tell the township the running box is offline)
 * and uses `<client_id>-doctor`, because a second connection with the box's own client id would
 * take over its session and disconnect it (MQTT 3.1.1 §3.1.4, MQTT 5 §3.1.4). It publishes
 * nothing and disconnects at once.
 */
import { readFileSync } from 'node:fs';
import mqtt, { type IClientOptions } from 'mqtt';
import type { UplinkConfig } from '../config/types.ts';
import { tlsOptions } from '../uplink/link.ts';
import { codeText, connackMeaning } from './connack.ts';
import type { DoctorContext } from './context.ts';
import { said, type CheckResult } from './types.ts';

type Outcome = { ok: true; ms: number } | { ok: false; code: number } | { ok: false; error: string; errno?: string };

function connectOnce(c: UplinkConfig, password: string | null, protocol: 4 | 5, deadlineMs: number, tls: Partial<IClientOptions>): Promise<Outcome> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    let done = false;
    const client = mqtt.connect(c.url, {
      protocolVersion: protocol,
      clientId: `${c.clientId}-doctor`,
      username: c.username ?? undefined,
      password: password ?? undefined,
      clean: true,
      reconnectPeriod: 0,
      connectTimeout: deadlineMs * 2,
      keepalive: c.keepaliveS,
      ...tls,
    });
    const finish = (o: Outcome): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      client.removeAllListeners();
      client.on('error', () => undefined);
      if (o.ok) client.end(false, () => undefined);
      else client.end(true);
      resolve(o);
    };
    const timer = setTimeout(() => finish({ ok: false, error: 'timeout' }), deadlineMs);
    client.once('connect', () => finish({ ok: true, ms: performance.now() - t0 }));
    client.on('error', (err) => {
      const code = (err as { code?: unknown }).code;
      if (typeof code === 'number') finish({ ok: false, code });
      else finish({ ok: false, error: err.message, errno: typeof code === 'string' ? code : undefined });
    });
    client.on('close', () => finish({ ok: false, error: 'closed before CONNACK' }));
  });
}

function networkWords(o: { error: string; errno?: string }, url: string, deadlineMs: number): { said: ReturnType<typeof said>; fix: ReturnType<typeof said> } {
  const e = o.errno ?? '';
  if (o.error === 'timeout') return { said: said(`${deadlineMs / 1000} s 内没有 CONNACK`, `no CONNACK within ${deadlineMs / 1000} s`), fix: said('防火墙拦截、端口不对,或服务器卡住:检查网络和 uplink.url 的端口', 'a firewall, a wrong port, or a hung server: check the network and the port in uplink.url') };
  if (e === 'ECONNREFUSED') return { said: said(`${url} 没有服务在监听`, `nothing listens at ${url}`), fix: said('乡镇服务器没开,或端口不对(mqtt 1883,mqtts 8883)', "the township's server is down, or the port is wrong (mqtt 1883, mqtts 8883)") };
  if (e === 'ENOTFOUND' || e === 'EAI_AGAIN') return { said: said('域名解析失败', 'the host name does not resolve'), fix: said('检查 DNS(/etc/resolv.conf)和 uplink.url 的拼写', 'check DNS (/etc/resolv.conf) and the spelling of uplink.url') };
  if (e === 'EHOSTUNREACH' || e === 'ENETUNREACH') return { said: said('网络不通', 'no route to the server'), fix: said('检查网络连接(4G 模块、网线)和路由', 'check the network link (4G modem, cable) and routing') };
  if (/CERT|SELF_SIGNED|UNABLE_TO|ALTNAME|TLS|SSL/i.test(`${e} ${o.error}`))
    return { said: said(`TLS 失败:${o.error}`, `TLS failed: ${o.error}`), fix: said('检查 uplink.ca_file 是否是签发服务器证书的 CA、证书是否过期、时钟是否正确', "check that uplink.ca_file is the CA that signed the server's certificate, that no certificate has expired, and that the clock is right") };
  return { said: said(`连接失败:${o.error}`, `connection failed: ${o.error}`), fix: said('检查网络和 uplink.url', 'check the network and uplink.url') };
}

export async function townshipCheck(ctx: DoctorContext): Promise<CheckResult> {
  const c = ctx.config.uplink;
  if (!c) return { id: 'township', status: 'info', what: said('乡镇服务器', 'township broker'), said: said('没有配置 uplink', 'no uplink configured') };
  const what = said(`乡镇服务器 ${c.url}`, `township broker ${c.url}`);
  let password: string | null = null;
  if (c.passwordFile) {
    try {
      password = readFileSync(c.passwordFile, 'utf8').replace(/\r?\n$/, '');
    } catch (err) {
      return { id: 'township', status: 'fail', what, said: said(`读不到密码文件 ${c.passwordFile}`, `cannot read the password file ${c.passwordFile}`), fix: said(`检查文件是否存在、权限(${(err as NodeJS.ErrnoException).code})`, `check that it exists and its permissions (${(err as NodeJS.ErrnoException).code})`) };
    }
  }
  let tls: Partial<IClientOptions>;
  try {
    tls = tlsOptions(c);
  } catch (err) {
    return { id: 'township', status: 'fail', what, said: said(`读不到 TLS 文件:${(err as Error).message}`, `cannot read a TLS file: ${(err as Error).message}`), fix: said('检查 uplink.ca_file / cert_file / key_file 的路径和权限', 'check the paths and permissions of uplink.ca_file, cert_file and key_file') };
  }
  const deadline = ctx.o.townshipDeadlineMs;
  let protocol = c.protocolVersion;
  let o = await connectOnce(c, password, protocol, deadline, tls);
  // As the uplink does (link.ts): a broker that refuses MQTT 5 is asked again in 3.1.1.
  if (!o.ok && 'code' in o && protocol === 5 && (o.code === 0x84 || o.code === 1)) {
    protocol = 4;
    o = await connectOnce(c, password, protocol, deadline, tls);
  }
  if (o.ok) {
    return { id: 'township', status: 'pass', what, said: said(`可达,接受账号 ${c.username ?? '(匿名)'}(CONNACK 0,MQTT ${protocol === 5 ? '5' : '3.1.1'},${o.ms.toFixed(0)} ms)`, `reachable, accepts ${c.username ?? '(anonymous)'} (CONNACK 0, MQTT ${protocol === 5 ? '5' : '3.1.1'}, ${o.ms.toFixed(0)} ms)`), figures: { connect_ms: Math.round(o.ms), protocol } };
  }
  if ('code' in o) {
    const m = connackMeaning(o.code, protocol);
    return { id: 'township', status: 'fail', what, said: said(`拒绝连接:CONNACK ${codeText(o.code, protocol)} ${m.said.zh}`, `refused: CONNACK ${codeText(o.code, protocol)} ${m.said.en}`), fix: m.fix, figures: { connack: o.code, protocol } };
  }
  const w = networkWords(o, c.url, deadline);
  return { id: 'township', status: 'fail', what, said: w.said, fix: w.fix, figures: { error: o.errno ?? o.error } };
}
