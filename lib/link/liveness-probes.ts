/**
 * Liveness probes waiting for the next sign of life from the broker: each is answered once, `true` when
 * anything arrives, `false` after its timeout or when the connection closes.
 *
 * @example
 * ```ts
 * probes.add(3_000, answer)
 * writePingreq()
 * // on data: probes.answerAll(true); on close: probes.answerAll(false)
 * ```
 */
export class LivenessProbes {
  #waiting: Array<(alive: boolean) => void> = []

  add(timeout: number, answer: (alive: boolean) => void): void {
    let settled = false
    const once = (alive: boolean): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      answer(alive)
    }
    // A main-thread timer: a probe runs when the page is in front, where timers are on time.
    const timer = setTimeout(() => {
      this.#waiting = this.#waiting.filter((p) => p !== once)
      once(false)
    }, timeout)
    this.#waiting.push(once)
  }

  answerAll(alive: boolean): void {
    if (this.#waiting.length === 0) return
    const waiting = this.#waiting
    this.#waiting = []
    for (const answer of waiting) answer(alive)
  }
}
