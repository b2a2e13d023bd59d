/**
 * The page's words, Chinese first; English by the switch in the top bar (remembered on this
 * device). `t('key', {n: 3})` fills `{n}`. The box's own sentences (an alert's text_zh /
 * text_en, a template's text) come from the box in both languages and are picked with `pick`.
 */
import type { Level } from './types.ts';

export type Lang = 'zh' | 'en';

const WORDS = {
  app: ['哨兵 值班面板', 'Shaobing duty panel'],
  signIn: ['登录', 'Sign in'],
  signOut: ['退出', 'Sign out'],
  username: ['用户名', 'Username'],
  password: ['密码', 'Password'],
  signingIn: ['正在登录…', 'Signing in…'],
  wrongPassword: ['用户名或密码错误', 'Wrong username or password'],
  lockedOut: ['登录失败次数过多,请 {s} 秒后再试', 'Too many failed sign-ins: try again in {s} s'],
  busy: ['哨兵盒正忙,请稍后再试', 'The box is busy: try again in a moment'],
  noBox: ['连不上哨兵盒', 'Cannot reach the box'],
  langSwitch: ['English', '中文'],
  home: ['总览', 'Home'],
  broadcast: ['广播', 'Broadcast'],
  sirens: ['警报器', 'Sirens'],
  log: ['日志', 'Log'],
  back: ['返回', 'Back'],
  viewOnly: ['只读账号:不能操作', 'View-only account: no commands'],
  disconnected: ['与哨兵盒的连接中断,画面可能不是最新情况', 'Connection to the box lost: this screen may be out of date'],
  drillBanner: ['演练模式 — 这是演练,不是真实警报', 'DRILL — this is a drill, not a real alarm'],
  drillBy: ['{by} 自 {since} 开始', 'by {by} since {since}'],
  endDrill: ['结束演练', 'End drill'],
  allClear: ['一切正常,没有预警', 'All clear: no active alerts'],
  alerts: ['当前预警', 'Active alerts'],
  zones: ['片区', 'Zones'],
  normal: ['正常', 'normal'],
  faults: ['设备故障', 'Sensors in fault'],
  noFaults: ['传感器都正常', 'All sensors working'],
  busyNow: ['正在进行', 'Now sounding'],
  nothingSounding: ['警报器和广播都空闲', 'Sirens and speakers idle'],
  status: ['系统状态', 'System'],
  uplink: ['上级平台', 'Township link'],
  uplinkOnline: ['在线', 'online'],
  uplinkOffline: ['离线,{n} 条待发送', 'offline, {n} events waiting'],
  uplinkNone: ['未配置', 'not configured'],
  disk: ['存储', 'Storage'],
  diskFree: ['剩余 {free}(共 {total})', '{free} free of {total}'],
  diskUnknown: ['未知', 'unknown'],
  degraded: ['异常:{reason}', 'degraded: {reason}'],
  engineStopped: ['判断引擎未运行!', 'The engine is not running!'],
  ack: ['确认', 'Acknowledge'],
  acked: ['已确认 · {by}', 'Acknowledged · {by}'],
  silence: ['消音', 'Silence'],
  silenceSirens: ['警报器消音', 'Silence sirens'],
  stop: ['停止', 'Stop'],
  stopAll: ['全部停止', 'Stop all'],
  escalate: ['吹哨 上报乡镇', 'Escalate to township'],
  escalateText: ['上报内容', 'Message to the township'],
  escalateDefault: ['请求支援:{text}', 'Request for help: {text}'],
  send: ['发送', 'Send'],
  details: ['详情', 'Details'],
  ago: ['{t}前', '{t} ago'],
  since: ['已持续 {t}', 'for {t}'],
  clock: ['响应时间', 'Response clock'],
  clockRaised: ['报警', 'Raised'],
  clockAck: ['确认', 'Acknowledged'],
  clockBroadcast: ['开始广播', 'Broadcast started'],
  clockEscalated: ['上报乡镇', 'Escalated'],
  clockTownship: ['乡镇回复', 'Township answered'],
  clockWaiting: ['等待中 {t}', 'waiting {t}'],
  evidence: ['判断依据', 'Readings that proved it'],
  current: ['当前读数', 'Now'],
  chart24: ['最近 24 小时', 'Last 24 h'],
  noHistory: ['暂无历史数据', 'No history yet'],
  rainHourly: ['每小时雨量', 'Rain per hour'],
  rainSum: ['{h} 小时累计', '{h} h sum'],
  level: ['水位(每分钟平均)', 'Level (minute mean)'],
  levelMax: ['每分钟最高', 'minute maximum'],
  detectors: ['本片区烟感', 'Smoke detectors in the zone'],
  sheltersRoutes: ['避难场所和撤离路线', 'Shelters and routes'],
  shelter: ['避难场所', 'Shelter'],
  route: ['撤离路线', 'Route'],
  gone: ['这条预警已解除', 'This alert has cleared'],
  templates: ['广播模板', 'Templates'],
  freeText: ['自定义内容', 'Your own words'],
  freeTextZh: ['中文内容(必填)', 'Chinese text (required)'],
  freeTextEn: ['英文内容(可选)', 'English text (optional)'],
  broadcastText: ['广播这段文字', 'Broadcast this text'],
  allZones: ['全部片区', 'All zones'],
  repeat: ['重复次数', 'Repeat'],
  times: ['{n} 遍', '{n}×'],
  emergency: ['紧急广播(优先于其他广播)', 'Emergency (goes ahead of other broadcasts)'],
  confirmBroadcast: ['确认开始广播?', 'Start this broadcast?'],
  confirmGo: ['确认广播', 'Yes, broadcast'],
  cancel: ['取消', 'Cancel'],
  inZones: ['片区:{z}', 'Zones: {z}'],
  progress: ['广播进度', 'Broadcast progress'],
  noBroadcast: ['没有正在进行的广播', 'No broadcast running'],
  queued: ['排队', 'queued'],
  playing: ['播放中', 'playing'],
  done: ['完成', 'done'],
  failed: ['失败', 'failed'],
  stopped: ['已停止', 'stopped'],
  sent: ['已发出', 'Sent'],
  refused: ['哨兵盒拒绝了:{e}', 'The box refused: {e}'],
  failedSend: ['没有发出:{e}', 'Not sent: {e}'],
  sirenTest: ['试鸣(短鸣一声)', 'Test (a short blip)'],
  patterns: ['警报信号', 'Signals'],
  confirmSiren: ['确认鸣响「{p}」?', 'Sound “{p}”?'],
  confirmSirenGo: ['确认鸣响', 'Yes, sound it'],
  sirenIdle: ['空闲', 'idle'],
  sounding: ['鸣响中', 'sounding'],
  speaking: ['广播中', 'speaking'],
  drill: ['演练', 'Drill'],
  startDrill: ['开始演练:{k}', 'Start a drill: {k}'],
  confirmDrill: ['确认开始演练?警报器和广播会响,一切标记为演练。', 'Start the drill? Sirens and speakers will sound; everything is marked as a drill.'],
  confirmDrillGo: ['确认开始演练', 'Yes, start the drill'],
  from: ['从', 'From'],
  to: ['到', 'To'],
  type: ['类型', 'Type'],
  zone: ['片区', 'Zone'],
  any: ['全部', 'Any'],
  search: ['查询', 'Search'],
  more: ['更多', 'More'],
  exportCsv: ['导出 CSV', 'Export CSV'],
  noEvents: ['没有符合条件的记录', 'No matching events'],
  reviews: ['演练复盘', 'Drill reviews'],
  noReviews: ['还没有演练记录', 'No drills yet'],
  review: ['复盘', 'Review'],
  ongoing: ['进行中', 'ongoing'],
  by: ['操作人', 'By'],
  at: ['时间', 'Time'],
  what: ['内容', 'What'],
  minutes: ['{n} 分钟', '{n} min'],
  seconds: ['{n} 秒', '{n} s'],
  hours: ['{h} 小时 {m} 分', '{h} h {m} min'],
  days: ['{d} 天 {h} 小时', '{d} d {h} h'],
} as const;

export type WordKey = keyof typeof WORDS;

const LEVEL_WORDS: Record<Level, [string, string]> = {
  info: ['提示', 'notice'],
  blue: ['蓝色预警', 'blue warning'],
  yellow: ['黄色预警', 'yellow warning'],
  orange: ['橙色预警', 'orange warning'],
  red: ['红色预警', 'red warning'],
};

const KIND_WORDS: Record<string, [string, string]> = {
  rain: ['暴雨', 'rainstorm'],
  water_level: ['洪水', 'flood'],
  smoke: ['火警', 'fire'],
  fault: ['设备故障', 'fault'],
};

const EVENT_WORDS: Record<string, [string, string]> = {
  transition: ['预警变化', 'alert'],
  effect: ['动作', 'effect'],
  command: ['指令', 'command'],
  fault: ['故障', 'fault'],
  config: ['配置', 'config'],
  start: ['启动', 'start'],
  stop: ['停止运行', 'stop'],
  observation: ['观测', 'observation'],
  note: ['备注', 'note'],
  storage: ['存储', 'storage'],
  threshold: ['阈值', 'threshold'],
  escalation: ['吹哨上报', 'escalation'],
  report: ['报告', 'report'],
  session: ['登录', 'session'],
};

const SOURCE_WORDS: Record<string, [string, string]> = {
  alarm: ['自动报警', 'automatic alarm'],
  emergency: ['紧急广播', 'emergency'],
  township: ['乡镇指令', 'township'],
  advisory: ['自动提示', 'advisory'],
  drill: ['演练', 'drill'],
  test: ['测试', 'test'],
  routine: ['日常', 'routine'],
};

let lang: Lang = 'zh';

export function initLang(): Lang {
  try {
    lang = localStorage.getItem('sb-lang') === 'en' ? 'en' : 'zh';
  } catch {
    lang = 'zh';
  }
  document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
  return lang;
}

export function currentLang(): Lang {
  return lang;
}

export function setLang(l: Lang): void {
  lang = l;
  try {
    localStorage.setItem('sb-lang', l);
  } catch {
    // A private window keeps no storage: the switch still works for this page.
  }
  document.documentElement.lang = l === 'zh' ? 'zh-CN' : 'en';
}

export function t(key: WordKey, vars: Record<string, string | number> = {}): string {
  const w = WORDS[key][lang === 'zh' ? 0 : 1];
  return w.replace(/\{(\w+)\}/g, (_m, k: string) => String(vars[k] ?? ''));
}

/** The box's bilingual text: this language's, or the other when this one is empty. */
export function pick(zh: string | null | undefined, en: string | null | undefined): string {
  return (lang === 'zh' ? zh || en : en || zh) ?? '';
}

/** The other language's text, for a second smaller line (null when it would repeat the first). */
export function other(zh: string | null | undefined, en: string | null | undefined): string | null {
  const o = lang === 'zh' ? en : zh;
  return o && o !== pick(zh, en) ? o : null;
}

const word = (table: Record<string, [string, string]>, k: string): string => table[k]?.[lang === 'zh' ? 0 : 1] ?? k;
export const levelWord = (l: Level | null): string => (l ? word(LEVEL_WORDS, l) : t('normal'));
export const kindWord = (k: string): string => word(KIND_WORDS, k);
export const eventWord = (k: string): string => word(EVENT_WORDS, k);
export const priorityWord = (k: string): string => word(SOURCE_WORDS, k);
export const EVENT_TYPES = Object.keys(EVENT_WORDS);
