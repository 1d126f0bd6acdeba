/**
 * The status badge with the page lifecycle in it: what `status$` reports, read in the light of what came
 * before. In a browser the SDK drops the connection at once when the browser goes offline (the status says
 * `reconnecting` with the error "the browser went offline"), tries at once when it is back online, and checks
 * the connection when the page comes back (visible again, resumed): when nothing answers, `reconnecting`
 * with an error saying so. The page adds one fact of its own: when the browser's `online` event came, to say
 * how soon the connection followed it.
 */
import { describeError, describeStatus, type StatusLike, type StatusView } from './words.js'

/**
 * What the page lifecycle has to do with the current status, if anything (the badge's `data-lifecycle`):
 * `offline` while reconnecting after the browser went offline, `back-online` once connected again; `page-back`
 * while reconnecting after a failed check on the page's return, and once connected again.
 */
export type Lifecycle = 'offline' | 'page-back' | 'back-online'

export interface ConnectionView extends StatusView {
  readonly lifecycle: Lifecycle | undefined
}

const WENT_OFFLINE = /the browser went offline/
const PAGE_BACK = /after the page came back \((\w+)\)/

function message(error: unknown): string {
  return typeof error === 'object' && error !== null && typeof (error as { message?: unknown }).message === 'string' ? (error as Error).message : ''
}

const duration = (ms: number) => (ms >= 1_000 ? `${(ms / 1_000).toFixed(1)} s` : `${Math.round(ms)} ms`)

/**
 * Folds `status$` values (and the browser's `online` events) into what the badge says. Times are the page's
 * clock (`performance.now()`).
 *
 * @example
 * ```ts
 * const story = new ConnectionStory()
 * client.status$.subscribe((s) => { story.update(s, performance.now()); renderStatus(badge, detail, s, story.view()) })
 * addEventListener('online', () => story.online(performance.now()))
 * ```
 */
export class ConnectionStory {
  private status: StatusLike | undefined
  /** Since the status said the browser went offline, until the next `connected`. */
  private offline = false
  /** When the backoff's next attempt is due. */
  private retryAt: number | undefined
  /** The browser's `online` event during an offline spell. */
  private onlineAt: number | undefined
  /** A check that failed when the page came back: why (visible, resume, pageshow), and when. */
  private pageBack: { reason: string; at: number } | undefined
  /** How the current connection came back: after an offline spell, or after a failed check. */
  private back:
    | { kind: 'online'; after: number; skipped: number | undefined }
    | { kind: 'page-back'; reason: string; after: number }
    | undefined

  update(status: StatusLike, now: number): void {
    this.status = status
    if (status.type === 'reconnecting') {
      const why = message(status.error)
      if (WENT_OFFLINE.test(why)) {
        this.offline = true
        this.onlineAt = undefined
      }
      const pageBack = PAGE_BACK.exec(why)
      this.pageBack = pageBack ? { reason: pageBack[1] ?? '', at: now } : undefined
      this.retryAt = now + status.delay
      this.back = undefined
      return
    }
    if (status.type === 'connected' && this.offline && this.onlineAt !== undefined) {
      const skipped = this.retryAt === undefined ? undefined : this.retryAt - this.onlineAt
      this.back = { kind: 'online', after: Math.max(0, now - this.onlineAt), skipped: skipped !== undefined && skipped > 0 ? skipped : undefined }
    } else if (status.type === 'connected' && this.pageBack) {
      this.back = { kind: 'page-back', reason: this.pageBack.reason, after: Math.max(0, now - this.pageBack.at) }
    } else {
      this.back = undefined
    }
    this.offline = false
    this.onlineAt = undefined
    this.retryAt = undefined
    this.pageBack = undefined
  }

  /** The browser's `online` event. */
  online(now: number): void {
    if (this.offline) this.onlineAt = now
  }

  view(): ConnectionView | undefined {
    const status = this.status
    if (!status) return undefined
    if (status.type === 'reconnecting') {
      const when = status.delay <= 0 ? 'now' : `in ${duration(status.delay)}`
      const why = message(status.error)
      if (this.offline) {
        const last = WENT_OFFLINE.test(why) ? '' : ` Last error: ${describeError(status.error)}`
        return {
          label: 'Offline — reconnecting',
          detail:
            'The browser went offline, so the connection was dropped at once (not when the keepalive ran out). ' +
            `Attempt ${status.attempt} ${when}, and at once when the browser is back online.${last}`,
          tone: 'warn',
          lifecycle: 'offline',
        }
      }
      const pageBack = PAGE_BACK.exec(why)
      if (pageBack) {
        return {
          label: 'Page back — reconnecting',
          detail: `The page came back (${pageBack[1]}) and the connection did not answer its check: reconnecting ${when === 'now' ? 'at once' : when}. ${describeError(status.error)}`,
          tone: 'warn',
          lifecycle: 'page-back',
        }
      }
    }
    if (status.type === 'connected' && this.back?.kind === 'online') {
      const skipped = this.back.skipped === undefined ? '' : `, instead of waiting out the backoff (${duration(this.back.skipped)} more)`
      return {
        label: 'Connected',
        detail: `Back online: connected ${duration(this.back.after)} after the browser said so${skipped}.`,
        tone: 'ok',
        lifecycle: 'back-online',
      }
    }
    if (status.type === 'connected' && this.back?.kind === 'page-back') {
      return {
        label: 'Connected',
        detail: `The page came back (${this.back.reason}) to a connection that did not answer its check: connected again ${duration(this.back.after)} later, without a backoff wait.`,
        tone: 'ok',
        lifecycle: 'page-back',
      }
    }
    return { ...describeStatus(status), lifecycle: undefined }
  }
}
