/**
 * What a link may offer beyond `Link`: asking the broker for a sign of life now, instead of at the next
 * keepalive tick. The connection uses it when the page comes back (visible again, resumed from a freeze):
 * a socket can look open after a sleep or a network change while nothing answers on it any more.
 */
export interface LivenessProbe {
  /**
   * Sends a PINGREQ; `answer(true)` as soon as any packet arrives (a PINGRESP, or messages queued ahead of
   * it), `answer(false)` after `timeout` ms without one, or at once without a connection. Answers once.
   */
  probe(timeout: number, answer: (alive: boolean) => void): void
}
