import { formatCount, formatRate, type RateMeter } from '../rate.js'
import { h, setText } from './dom.js'

/** What the subscriptions list shows per filter. */
export interface SubscriptionRow {
  readonly filter: string
  readonly qos: number
  readonly meter: RateMeter
  /** Why the broker or the SDK ended the subscription, in plain words. */
  error: string | undefined
  /** The QoS the broker granted (from `client.subscriptions$`); undefined until its SUBACK arrives. */
  granted: number | undefined
}

interface Els {
  li: HTMLLIElement
  qos: HTMLElement
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
      this.renderQos(row, els)
      ordered.push(els.li)
    }
    for (const filter of [...this.els.keys()]) if (!seen.has(filter)) this.els.delete(filter)
    const current = [...this.list.children]
    if (current.length !== ordered.length || current.some((el, i) => el !== ordered[i])) this.list.replaceChildren(...ordered)
  }

  private renderQos(row: SubscriptionRow, els: Els): void {
    const pending = row.granted === undefined && row.error === undefined
    els.li.classList.toggle('pending', pending)
    if (row.granted === undefined) els.li.removeAttribute('data-granted')
    else els.li.setAttribute('data-granted', String(row.granted))
    const downgraded = row.granted !== undefined && row.granted < row.qos
    setText(els.qos, downgraded ? `QoS ${row.qos}→${row.granted}` : `QoS ${row.qos}`)
    els.qos.classList.toggle('tag-warn', downgraded)
    els.qos.title = pending
      ? 'Subscribing: waiting for the broker to acknowledge (SUBACK)'
      : downgraded
        ? `Asked for QoS ${row.qos}, the broker granted QoS ${row.granted}`
        : row.granted === undefined
          ? ''
          : `Granted QoS ${row.granted} by the broker`
  }

  private create(row: SubscriptionRow): Els {
    const count = h('span', { class: 'sub-count', title: 'messages' })
    const rate = h('span', { class: 'sub-rate', title: 'messages per second' })
    const error = h('span', { class: 'sub-error' })
    const qos = h('span', { class: 'tag sub-qos' })
    const li = h(
      'li',
      { class: 'sub', attrs: { 'data-filter': row.filter } },
      qos,
      h('code', { class: 'sub-filter', text: row.filter, title: row.filter }),
      count,
      rate,
      h('button', { class: 'icon-btn', text: '×', title: `Unsubscribe from ${row.filter}`, attrs: { type: 'button', 'data-remove': row.filter, 'aria-label': `Remove ${row.filter}` } }),
      error,
    )
    const els = { li, qos, count, rate, error }
    this.els.set(row.filter, els)
    return els
  }
}
