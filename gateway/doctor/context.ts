/**
 * What every check of `shaobing doctor` may look at: the effective config, the device profiles,
 * whether the box is running (and its process), the paths and commands of the machine, and the
 * thresholds. Tests and the CLI's flags override the seams; by default they are the machine's.
 */
import type { DeviceProfile } from '../../drivers/modbus/profile-types.ts';
import type { SiteConfig } from '../config/types.ts';
import type { Holder } from './proc.ts';

export interface DoctorOptions {
  /** /proc (tests: a fake tree). */
  procRoot?: string;
  /**
   * `auto` (default): field buses are read only while the box is not running; `always`: TCP
   * buses are read even then (an RTU line never is: a second master on RS-485 garbles both).
   */
  busReads?: 'auto' | 'always';
  /** SD wear budget, MB written per hour (default 100, README "SD card wear"). */
  wearBudgetMbPerH?: number;
  /** The wear figure is an average since the box started; before this many seconds it is not given (default 300). */
  wearMinUptimeS?: number;
  /** The log's disk must keep at least this much free (default 200 MB)… */
  minFreeMb?: number;
  /** …and last at least this many days at the measured growth (default 90). */
  minDays?: number;
  /** The disk's figures instead of statfs (tests: a disk that looks full). */
  statfs?: (dir: string) => { freeBytes: number; totalBytes: number };
  /** systemd-timesyncd's flag file (default /run/systemd/timesync/synchronized). */
  timesyncFile?: string;
  /** The command that says whether NTP synchronised (default `timedatectl show -p NTPSynchronized --value`); null: not tried. */
  timedatectl?: string[] | null;
  /** Where RTC devices are (default /dev). */
  devDir?: string;
  /** ALSA device for the audio check (default: the speaker config's, else `default`). */
  audioDevice?: string;
  /** The aplay binary (default `aplay`). */
  aplay?: string;
  /** The township broker's deadline for CONNACK (default 10 s, as the uplink's). */
  townshipDeadlineMs?: number;
  /** Wall clock, epoch ms. */
  now?: () => number;
}

export interface DoctorContext {
  configFile: string;
  config: SiteConfig;
  profiles: Map<string, DeviceProfile>;
  /** The log's file, resolved. */
  dbPath: string;
  /** The running box (a process holding the log open as `shaobing start|demo`), if any. */
  box: Holder | null;
  /** Other processes holding the log open (a `sqlite3` shell, a second box, …). */
  otherLogHolders: Holder[];
  /** Processes whose descriptors could not be read (not root): "nobody" may be wrong. */
  unreadable: number;
  /**
   * No box seen, but some processes could not be looked into and the log has a WAL beside it
   * (which exists while a connection has it open): the box may be running unseen, so its buses
   * are left alone as if it were.
   */
  boxUnseen: boolean;
  o: Required<Omit<DoctorOptions, 'statfs' | 'audioDevice' | 'timedatectl'>> & Pick<DoctorOptions, 'statfs' | 'audioDevice'> & { timedatectl: string[] | null };
}

export function withDefaults(o: DoctorOptions): DoctorContext['o'] {
  return {
    procRoot: o.procRoot ?? '/proc',
    busReads: o.busReads ?? 'auto',
    wearBudgetMbPerH: o.wearBudgetMbPerH ?? 100,
    wearMinUptimeS: o.wearMinUptimeS ?? 300,
    minFreeMb: o.minFreeMb ?? 200,
    minDays: o.minDays ?? 90,
    statfs: o.statfs,
    timesyncFile: o.timesyncFile ?? '/run/systemd/timesync/synchronized',
    timedatectl: o.timedatectl === undefined ? ['timedatectl', 'show', '-p', 'NTPSynchronized', '--value'] : o.timedatectl,
    devDir: o.devDir ?? '/dev',
    audioDevice: o.audioDevice,
    aplay: o.aplay ?? 'aplay',
    townshipDeadlineMs: o.townshipDeadlineMs ?? 10_000,
    now: o.now ?? Date.now,
  };
}
