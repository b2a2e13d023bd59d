/**
 * CONNACK return codes in words (MQTT 3.1.1 §3.2.2.3, MQTT 5.0 §3.2.2.2), each with what a
 * technician does about it. Pure.
 */
import { said, type Said } from './types.ts';

interface Meaning {
  said: Said;
  fix: Said;
}

const CREDENTIALS = said('核对 uplink.username 和 password_file 的内容,问乡镇管理员账号是否开通', "check uplink.username and the password file's content; ask the township's administrator whether the account exists");
// Mosquitto answers a wrong password with "not authorised" too (5 / 0x87), not "bad user name or password".
const ACL = said('密码错了(Mosquitto 对错误密码也这样回答),或账号无权连接:先核对 uplink.username 和 password_file,都对就请乡镇管理员开权限', "a wrong password (Mosquitto answers one so too), or an account that may not connect: check uplink.username and the password file first; if both are right, ask the township's administrator to allow the account");
const LATER = said('乡镇服务器暂时不可用,稍后再试;持续出现请联系乡镇', "the township's server is unavailable now: try later; if it lasts, call the township");
const CLIENT_ID = said('乡镇服务器拒绝这个客户端 ID(doctor 用 <client_id>-doctor,不踢掉正在运行的哨兵);问管理员是否只允许哨兵自己的 ID', "the township's server refuses this client id (the doctor uses <client_id>-doctor so as not to disconnect the running box); ask whether only the box's own id is allowed");
const VERSION = said('服务器不支持这个 MQTT 版本:设 uplink.protocol_version: 4', 'the server does not speak this MQTT version: set uplink.protocol_version: 4');

const V4: Record<number, Meaning> = {
  1: { said: said('不接受的协议版本', 'unacceptable protocol version'), fix: VERSION },
  2: { said: said('客户端 ID 被拒绝', 'identifier rejected'), fix: CLIENT_ID },
  3: { said: said('服务不可用', 'server unavailable'), fix: LATER },
  4: { said: said('用户名或密码错误', 'bad user name or password'), fix: CREDENTIALS },
  5: { said: said('未授权', 'not authorised'), fix: ACL },
};

const V5: Record<number, Meaning> = {
  0x80: { said: said('未指明的错误', 'unspecified error'), fix: LATER },
  0x81: { said: said('报文格式错误', 'malformed packet'), fix: VERSION },
  0x82: { said: said('协议错误', 'protocol error'), fix: VERSION },
  0x83: { said: said('实现相关的错误', 'implementation specific error'), fix: LATER },
  0x84: { said: said('不支持的协议版本', 'unsupported protocol version'), fix: VERSION },
  0x85: { said: said('客户端 ID 无效', 'client identifier not valid'), fix: CLIENT_ID },
  0x86: { said: said('用户名或密码错误', 'bad user name or password'), fix: CREDENTIALS },
  0x87: { said: said('未授权', 'not authorized'), fix: ACL },
  0x88: { said: said('服务器不可用', 'server unavailable'), fix: LATER },
  0x89: { said: said('服务器忙', 'server busy'), fix: LATER },
  0x8a: { said: said('已被封禁', 'banned'), fix: said('这个账号或地址被乡镇服务器封禁了:联系乡镇管理员', "the account or address is banned by the township's server: call its administrator") },
  0x8c: { said: said('认证方式错误', 'bad authentication method'), fix: CREDENTIALS },
  0x95: { said: said('报文太大', 'packet too large'), fix: LATER },
  0x97: { said: said('超出配额', 'quota exceeded'), fix: LATER },
  0x99: { said: said('载荷格式无效', 'payload format invalid'), fix: VERSION },
  0x9a: { said: said('不支持保留消息', 'retain not supported'), fix: LATER },
  0x9b: { said: said('不支持该 QoS', 'QoS not supported'), fix: LATER },
  0x9c: { said: said('请改用另一台服务器', 'use another server'), fix: said('乡镇服务器要求换地址:改 uplink.url', "the township's server asks for another address: change uplink.url") },
  0x9d: { said: said('服务器已迁移', 'server moved'), fix: said('乡镇服务器已迁移:改 uplink.url', "the township's server has moved: change uplink.url") },
  0x9f: { said: said('连接过于频繁', 'connection rate exceeded'), fix: LATER },
};

export function connackMeaning(code: number, protocol: 4 | 5): Meaning {
  const m = (protocol === 5 ? V5 : V4)[code] ?? (protocol === 5 ? undefined : V5[code]);
  return m ?? { said: said(`未知返回码 ${code}`, `unknown return code ${code}`), fix: LATER };
}

/** `0x86` for MQTT 5's codes, `4` for 3.1.1's. */
export function codeText(code: number, protocol: 4 | 5): string {
  return protocol === 5 ? `0x${code.toString(16).padStart(2, '0')}` : String(code);
}
