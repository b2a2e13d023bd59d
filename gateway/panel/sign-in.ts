/**
 * Who may sign in to the panel, and the password check: the broker's own Authenticator
 * (broker/auth.ts), reused rather than copied, over the site's officer and observer accounts
 * only. Device and township accounts are unknown to it: a leaked device secret opens no panel,
 * and the township acts through the uplink, not a browser on the LAN.
 *
 * So the panel gets the broker's rules as they are: the lockout per `username@address`
 * (DEFAULT_LOCKOUT: 5 failures a minute lock that pair for a minute, counted before scrypt),
 * the rate buckets and lanes bounding scrypt, and the fast lane that lets the real officer in
 * with the right password from an address that guessers did not lock (their failures lock
 * their own addresses, not the officer's) and from a locked address once their password was
 * verified lately (verified-secrets.ts). The panel's instance is its own: failures on the
 * panel do not lock the officer's MQTT client, and the reverse.
 */
import type { SiteConfig } from '../config/types.ts';
import { Authenticator, DEFAULT_LOCKOUT, type AuthOutcome, type LockoutPolicy } from '../broker/auth.ts';
import type { Role } from '../shell/bus.ts';

/** The roles that may sign in: officers act, observers only look. No `admin`: nothing yet needs more than an officer. */
export const PANEL_ROLES: readonly Role[] = ['officer', 'observer'];

export function panelAuthenticator(config: SiteConfig, now: () => number, policy: LockoutPolicy = DEFAULT_LOCKOUT): Authenticator {
  const device = new Set([...config.sensors.map((s) => s.id), ...config.actuators.map((a) => a.id)]);
  const accounts = config.mqtt.accounts.filter((a) => PANEL_ROLES.includes(a.role) && !device.has(a.username));
  return new Authenticator({ ...config, mqtt: { ...config.mqtt, accounts } }, policy, now);
}

export type SignInOutcome = AuthOutcome;
