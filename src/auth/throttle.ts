import { rateLimited } from '../common/errors';
import type { RateLimiters, RefundableRateLimiter } from '../common/rate-limit/rate-limiter';

/** The front door's limits, each a count per window; a count of 0 turns that limit off. */
export interface FrontDoorLimits {
  /** Failed logins per username (existing or not) per failure window. @default 10 */
  loginFailuresPerAccount: number;
  /** Failed logins per client address per failure window; successes do not count, so a busy NAT is fine. @default 100 */
  loginFailuresPerAddress: number;
  /** Refused refreshToken calls per client address per failure window. @default 100 */
  refreshFailuresPerAddress: number;
  /** changePassword calls with a wrong old password per account per failure window. @default 10 */
  passwordFailuresPerAccount: number;
  /** The window of every failure count. @default 900 */
  failureWindowSeconds: number;
  /** Registration attempts per client address per registration window. @default 20 */
  registrationsPerAddress: number;
  /** @default 3600 */
  registrationWindowSeconds: number;
}

/** One limit an attempt passes: its limiter (absent when turned off), the key, and what a refusal says. */
interface Gate {
  limiter: RefundableRateLimiter | undefined;
  key: string;
  refusal: string;
}
type OpenGate = Gate & { limiter: RefundableRateLimiter };

/** Usernames are at most 32 characters; a longer one cannot exist and must not become a huge key. */
const accountKey = (username: string): string => username.trim().toLowerCase().slice(0, 64);

/**
 * Rate limits of the front door (login, register, refreshToken, changePassword), per account and per client
 * address. Failure limits take a point before the attempt runs, so concurrent guesses cannot overshoot, and
 * give it back when the attempt succeeds: only failures count.
 */
export class Throttle {
  private readonly loginAccount;
  private readonly loginAddress;
  private readonly refreshAddress;
  private readonly passwordAccount;
  private readonly registrationAddress;

  constructor(limiters: RateLimiters, limits: FrontDoorLimits) {
    const window = (name: string, points: number, durationSeconds: number) =>
      points > 0 ? limiters.window(name, { points, durationSeconds }) : undefined;
    const failures = limits.failureWindowSeconds;
    this.loginAccount = window('login-account', limits.loginFailuresPerAccount, failures);
    this.loginAddress = window('login-address', limits.loginFailuresPerAddress, failures);
    this.refreshAddress = window('refresh-address', limits.refreshFailuresPerAddress, failures);
    this.passwordAccount = window('password-account', limits.passwordFailuresPerAccount, failures);
    this.registrationAddress = window('register-address', limits.registrationsPerAddress, limits.registrationWindowSeconds);
  }

  /** Runs a login attempt unless the username or the address failed too often; a failure counts for both. */
  login<T>(username: string, address: string, attempt: () => Promise<T>): Promise<T> {
    return this.countingFailures(
      [
        { limiter: this.loginAccount, key: accountKey(username), refusal: 'login: too many failed attempts for this username' },
        { limiter: this.loginAddress, key: address, refusal: 'login: too many failed attempts from this address' },
      ],
      attempt,
    );
  }

  /** Runs a refresh unless the address presented too many refused refresh tokens. */
  refresh<T>(address: string, attempt: () => Promise<T>): Promise<T> {
    return this.countingFailures([{ limiter: this.refreshAddress, key: address, refusal: 'refreshToken: too many refused tokens from this address' }], attempt);
  }

  /** Runs a password change unless the account gave a wrong old password too often. */
  changePassword<T>(userId: string, attempt: () => Promise<T>): Promise<T> {
    return this.countingFailures([{ limiter: this.passwordAccount, key: userId, refusal: 'oldPassword: wrong too many times' }], attempt);
  }

  /** Runs a registration unless the address registered too often; every attempt that gets this far counts. */
  async register<T>(address: string, attempt: () => Promise<T>): Promise<T> {
    await this.pass([{ limiter: this.registrationAddress, key: address, refusal: 'register: too many registrations from this address' }]);
    return attempt();
  }

  private async countingFailures<T>(gates: Gate[], attempt: () => Promise<T>): Promise<T> {
    const passed = await this.pass(gates);
    const result = await attempt();
    await Promise.all(passed.map((gate) => gate.limiter.refund(gate.key)));
    return result;
  }

  /** Takes a point from every gate, or none (refunding those taken) and RATE_LIMITED naming the first refusal. */
  private async pass(gates: Gate[]): Promise<OpenGate[]> {
    const open = gates.filter((gate): gate is OpenGate => gate.limiter !== undefined);
    const decisions = await Promise.all(open.map((gate) => gate.limiter.consume(gate.key)));
    const refused = decisions.findIndex((d) => !d.allowed);
    if (refused < 0) return open;
    await Promise.all(open.filter((_, i) => decisions[i]!.allowed).map((gate) => gate.limiter.refund(gate.key)));
    const retryAfterMs = decisions[refused]!.retryAfterMs;
    throw rateLimited(`${open[refused]!.refusal}; retry in ${Math.ceil(retryAfterMs / 1000)} s`, retryAfterMs);
  }
}
