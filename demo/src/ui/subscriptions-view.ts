import { formatCount, formatRate, type RateMeter } from '../rate.js'
import { h, setText } from './dom.js'

/** What the subscriptions list shows per filter. */
export interface SubscriptionRow {
  readonly filter: string
  readonly qos: number
  readonly meter: RateMeter
  /** Why the broker or the SDK ended the subscription, in plain words. */
  error: string | undefined
}

interface Els {
  li: HTMLLIElement
  count: HTMLElement
  rate: HTMLElement
  error: HTMLElement
}

/** The list of the user's subscriptions, each with QoS, message count, rate and a remove button. */
export class SubscriptionsView {
  private readonly els = new Map<string, Els>()

  constructor(
    private readonly list: HTMLElement,
    private readonly onRemove: (filter: string) => void,
  ) {
    list.addEventListener('click', (event) => {
      const button = (event.target as Element | null)?.closest?.('button[data-remove]') as HTMLButtonElement | null
      if (button?.dataset.remove !== undefined) this.onRemove(button.dataset.remove)
    })
  }

  render(rows: Iterable<SubscriptionRow>, now: number): void {
    const seen = new Set<string>()
    const ordered: HTMLLIElement[] = []
    for (const row of rows) {
      seen.add(row.filter)
      const els = this.els.get(row.filter) ?? this.create(row)
      setText(els.count, formatCount(row.meter.total))
      setText(els.rate, formatRate(row.meter.rate(now)))
      setText(els.error, row.error ?? '')
      els.li.classList.toggle('failed', row.error !== undefined)
      ordered.push(els.li)
    }
    for (const filter of [...this.els.keys()]) if (!seen.has(filter)) this.els.delete(filter)
    const current = [...this.list.children]
    if (current.length !== ordered.length || current.some((el, i) => el !== ordered[i])) this.list.replaceChildren(...ordered)
  }

  private create(row: SubscriptionRow): Els {
    const count = h('span', { class: 'sub-count', title: 'messages' })
    const rate = h('span', { class: 'sub-rate', title: 'messages per second' })
    const error = h('span', { class: 'sub-error' })
    const li = h(
      'li',
      { class: 'sub', attrs: { 'data-filter': row.filter } },
      h('span', { class: 'tag', text: `QoS ${row.qos}` }),
      h('code', { class: 'sub-filter', text: row.filter, title: row.filter }),
      count,
      rate,
      h('button', { class: 'icon-btn', text: '×', title: `Unsubscribe from ${row.filter}`, attrs: { type: 'button', 'data-remove': row.filter, 'aria-label': `Remove ${row.filter}` } }),
      error,
    )
    const els = { li, count, rate, error }
    this.els.set(row.filter, els)
    return els
  }
}
