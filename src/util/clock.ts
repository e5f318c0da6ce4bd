/**
 * The service's one source of time. Every time-based rule (token lifetimes, meeting expiry, tombstone purges,
 * throttling buckets, and whatever later areas add) reads `clock.now`, never Date.now(), so that the
 * deterministic mode can start it at CLOCK and move it with POST /_emulator/clock.
 */
export class EmulatorClock {
  readonly #source: () => number;
  readonly #frozen: boolean;
  #offsetMs: number;
  #frozenAt: number;

  /**
   * @param options.source the real time (Date.now by default; tests may pass their own function)
   * @param options.start where the clock starts, in epoch ms (CLOCK); it then advances with `source`
   * @param options.frozen stand still at `start` until advanced (CLOCK_FROZEN: identical snapshots across runs)
   */
  constructor(options: { source?: () => number; start?: number; frozen?: boolean } = {}) {
    this.#source = options.source ?? Date.now;
    const real = this.#source();
    this.#offsetMs = options.start === undefined ? 0 : options.start - real;
    this.#frozen = options.frozen === true;
    this.#frozenAt = options.start ?? real;
  }

  /** Milliseconds since the epoch, as Date.now() would say on the emulated timeline. Bound: pass it around as `() => number`. */
  readonly now = (): number => (this.#frozen ? this.#frozenAt : this.#source() + this.#offsetMs);

  /** Moves the clock forward (never back: tokens and meetings already issued must not become "from the future"). */
  advance(seconds: number): void {
    if (!Number.isFinite(seconds) || seconds < 0) throw new RangeError('seconds must be a finite number >= 0');
    this.#offsetMs += seconds * 1000;
    this.#frozenAt += seconds * 1000;
  }

  get frozen(): boolean {
    return this.#frozen;
  }
}
