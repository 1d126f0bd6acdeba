import { formatReading, timeAgo, type DeviceState, type DeviceStore, type Metric } from '../devices.js'
import { sparklineArea, sparklinePoints } from '../sparkline.js'
import { h, setText, svg } from './dom.js'

const PALETTE = ['#38bdf8', '#a78bfa', '#34d399', '#fbbf24', '#f472b6', '#fb923c']
const SPARK_W = 120
const SPARK_H = 28

interface MetricEls {
  value: HTMLSpanElement
  line: SVGPolylineElement
  area: SVGPolygonElement
}

interface Card {
  el: HTMLElement
  title: HTMLElement
  subtitle: HTMLElement
  status: HTMLElement
  metrics: HTMLElement
  metricEls: Map<string, MetricEls>
  facts: HTMLElement
  seen: HTMLElement
  actions: HTMLElement
  commandsKey: string
  reply: HTMLElement
}

export interface DeviceActions {
  /** Sends `command` (with `value` for set-interval) to the device. */
  command(deviceId: string, command: string, value?: number): void
}

const LABELS: Record<string, string> = { blink: 'Blink', ping: 'Ping', reboot: 'Reboot' }

/** The device cards: live readings with sparklines, online/offline, command buttons and the last reply. */
export class DevicesView {
  private readonly cards = new Map<string, Card>()

  constructor(
    private readonly store: DeviceStore,
    private readonly container: HTMLElement,
    private readonly actions: DeviceActions,
  ) {
    container.addEventListener('click', (event) => {
      const button = (event.target as Element | null)?.closest?.('button[data-command]') as HTMLButtonElement | null
      const card = button?.closest('[data-device]') as HTMLElement | null
      if (button && card?.dataset.device) this.actions.command(card.dataset.device, button.dataset.command as string)
    })
    container.addEventListener('change', (event) => {
      const select = event.target as HTMLSelectElement
      const card = select.closest?.('[data-device]') as HTMLElement | null
      if (select.dataset.command && card?.dataset.device && select.value) {
        this.actions.command(card.dataset.device, select.dataset.command, Number(select.value))
        select.value = ''
      }
    })
  }

  /** Redraws changed cards; `now` refreshes every "updated … ago" line. */
  render(now: number): void {
    const { changed, structure } = this.store.takeChanges()
    if (structure) {
      const devices = this.store.list()
      const ids = new Set(devices.map((d) => d.id))
      for (const id of [...this.cards.keys()]) if (!ids.has(id)) this.cards.delete(id)
      this.container.replaceChildren(...devices.map((d) => (this.cards.get(d.id) ?? this.create(d)).el))
      this.container.dataset.count = String(devices.length)
    }
    for (const id of changed) {
      const device = this.store.get(id)
      const card = this.cards.get(id)
      if (device && card) this.update(device, card)
    }
    for (const [id, card] of this.cards) {
      const device = this.store.get(id)
      if (device) setText(card.seen, device.lastSeen === undefined ? 'no readings yet' : `updated ${timeAgo(device.lastSeen, now)} · ${device.messages} msgs`)
    }
  }

  private create(device: DeviceState): Card {
    const title = h('h3', { class: 'device-name' })
    const subtitle = h('p', { class: 'device-kind' })
    const status = h('span', { class: 'pill' })
    const metrics = h('div', { class: 'metrics' })
    const facts = h('div', { class: 'facts' })
    const seen = h('p', { class: 'device-seen' })
    const actions = h('div', { class: 'device-actions' })
    const reply = h('p', { class: 'device-reply', attrs: { 'aria-live': 'polite' } })
    const el = h(
      'article',
      { class: 'device-card', attrs: { 'data-device': device.id } },
      h('header', { class: 'device-head' }, h('div', {}, title, subtitle, seen), status),
      metrics,
      facts,
      h('footer', { class: 'device-foot' }, actions, reply),
    )
    const card: Card = { el, title, subtitle, status, metrics, metricEls: new Map(), facts, seen, actions, commandsKey: '', reply }
    this.cards.set(device.id, card)
    this.update(device, card)
    return card
  }

  private update(device: DeviceState, card: Card): void {
    setText(card.title, device.name)
    setText(card.subtitle, [device.kind, device.location].filter(Boolean).join(' · ') || device.id)
    setText(card.status, device.status)
    card.status.dataset.state = device.status
    card.el.dataset.status = device.status
    let index = 0
    for (const metric of device.metrics.values()) {
      const els = card.metricEls.get(metric.key) ?? this.addMetric(card, metric, index)
      this.updateMetric(metric, els)
      index++
    }
    if (device.facts.size > 0) {
      setText(card.facts, [...device.facts].map(([k, v]) => `${k}: ${v}`).join(' · '))
    }
    this.updateActions(device, card)
    this.updateReply(device, card)
  }

  private addMetric(card: Card, metric: Metric, index: number): MetricEls {
    const color = PALETTE[index % PALETTE.length] as string
    const line = svg('polyline', { fill: 'none', stroke: color, 'stroke-width': '1.6', 'stroke-linejoin': 'round', 'stroke-linecap': 'round' })
    const area = svg('polygon', { fill: color, 'fill-opacity': '0.12', stroke: 'none' })
    const chart = svg('svg', { class: 'spark', viewBox: `0 0 ${SPARK_W} ${SPARK_H}`, preserveAspectRatio: 'none', 'aria-hidden': 'true' })
    chart.append(area, line)
    const value = h('span', { class: 'metric-value' })
    const row = h(
      'div',
      { class: 'metric', attrs: { 'data-metric': metric.key } },
      h('div', { class: 'metric-text' }, h('span', { class: 'metric-label', text: metric.label }), value),
      chart,
    )
    row.style.setProperty('--metric-color', color)
    card.metrics.append(row)
    const els = { value, line, area }
    card.metricEls.set(metric.key, els)
    return els
  }

  private updateMetric(metric: Metric, els: MetricEls): void {
    setText(els.value, formatReading(metric.value, metric.unit, metric.decimals))
    const label = els.value.previousElementSibling
    if (label) setText(label, metric.label)
    const points = sparklinePoints(metric.history.values, SPARK_W, SPARK_H)
    els.line.setAttribute('points', points)
    els.area.setAttribute('points', sparklineArea(points, SPARK_W, SPARK_H))
  }

  private updateActions(device: DeviceState, card: Card): void {
    const commands = device.commands.length > 0 ? device.commands : ['blink', 'ping']
    const key = commands.join(',')
    if (key !== card.commandsKey) {
      card.commandsKey = key
      const children: HTMLElement[] = []
      for (const command of commands) {
        if (command === 'set-interval') {
          children.push(
            h(
              'select',
              { class: 'interval', title: 'Reporting interval', attrs: { 'data-command': command, 'aria-label': 'Reporting interval' } },
              h('option', { text: 'Every…', attrs: { value: '' } }),
              ...[250, 500, 1000, 2000, 5000].map((ms) => h('option', { text: ms < 1000 ? `${ms} ms` : `${ms / 1000} s`, attrs: { value: String(ms) } })),
            ),
          )
        } else {
          children.push(h('button', { class: 'btn btn-small', text: LABELS[command] ?? command, attrs: { type: 'button', 'data-command': command } }))
        }
      }
      card.actions.replaceChildren(...children)
    }
    const disabled = device.status === 'offline'
    for (const el of card.actions.querySelectorAll<HTMLButtonElement | HTMLSelectElement>('[data-command]')) el.disabled = disabled
  }

  private updateReply(device: DeviceState, card: Card): void {
    if (device.pending) {
      setText(card.reply, `Sent ${device.pending.command}, waiting for the reply…`)
      card.reply.dataset.state = 'pending'
      return
    }
    const reply = device.lastReply
    if (!reply) {
      setText(card.reply, '')
      delete card.reply.dataset.state
      return
    }
    const rtt = reply.rtt === undefined ? '' : ` · ${Math.round(reply.rtt)} ms`
    setText(card.reply, `${reply.ok ? '✓' : '✗'} ${reply.command ? `${reply.command}: ` : ''}${reply.message ?? ''}${rtt}`)
    card.reply.dataset.state = reply.ok ? 'ok' : 'error'
  }
}
