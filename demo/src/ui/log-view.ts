import { ALL_LINES, LOG_EVENTS, fieldEntries, shortMessage, type LogFilter, type LogLevel, type LogLine, type ProtocolLog } from '../protocol-log.js'
import { formatCount } from '../rate.js'
import { clockTime, h, setText } from './dom.js'

/** The panel's parts, from the page (index.html) or built by a test. */
export interface LogViewElements {
  /** The disclosure button in the heading: `aria-expanded`, `aria-controls` the body. */
  readonly toggle: HTMLButtonElement
  /** What collapses: the list and its empty line. */
  readonly body: HTMLElement
  /** The filters and the clear button (hidden while collapsed). */
  readonly tools?: HTMLElement
  readonly list: HTMLElement
  /** `14 events · 1 warning`, coloured by the loudest level seen. */
  readonly info: HTMLElement
  readonly empty: HTMLElement
  readonly level: HTMLSelectElement
  readonly event: HTMLSelectElement
  readonly clear: HTMLButtonElement
  /** A polite live region: the newest error line is read out, even while the panel is collapsed. */
  readonly alert: HTMLElement
}

export interface LogViewOptions {
  /** Open at first. Default true. */
  open?: boolean
  /** Rows in the DOM at most. Default: the log's capacity. */
  maxRows?: number
  /** How the view asks for a redraw after a click or a filter change; the page batches it per frame. Default: at once. */
  schedule?: (render: () => void) => void
}

const LEVEL_CHOICES: readonly [LogLevel, string][] = [
  ['debug', 'All levels'],
  ['info', 'Info and above'],
  ['warn', 'Warnings and errors'],
  ['error', 'Errors only'],
]

const plural = (n: number, one: string) => `${formatCount(n)} ${one}${n === 1 ? '' : 's'}`

/**
 * The protocol log panel: the SDK's debug log, newest first, coloured by level, each line opening onto its
 * fields; filters by level and event, a clear button, collapsible. Incremental like the feed: a render
 * prepends only the lines that arrived since the last one; collapsed, it only updates the counts.
 */
export class LogView {
  private open: boolean
  private filter: LogFilter = ALL_LINES
  private renderedFilter: LogFilter = ALL_LINES
  private renderedSeq = 0
  private alertedSeq = 0
  private dirtyAll = true
  private readonly maxRows: number
  private readonly schedule: (render: () => void) => void

  constructor(
    private readonly log: ProtocolLog,
    private readonly els: LogViewElements,
    options: LogViewOptions = {},
  ) {
    this.open = options.open ?? true
    this.maxRows = options.maxRows ?? log.capacity
    this.schedule = options.schedule ?? ((render) => render())
    els.level.replaceChildren(...LEVEL_CHOICES.map(([value, label]) => h('option', { text: label, attrs: { value } })))
    els.event.replaceChildren(h('option', { text: 'All events', attrs: { value: '' } }), ...LOG_EVENTS.map((event) => h('option', { text: event, attrs: { value: event } })))
    els.level.value = this.filter.minLevel
    els.event.value = this.filter.event
    els.level.addEventListener('change', () => this.setFilter({ ...this.filter, minLevel: els.level.value as LogLevel }))
    els.event.addEventListener('change', () => this.setFilter({ ...this.filter, event: els.event.value }))
    els.clear.addEventListener('click', () => {
      log.clear()
      setText(els.alert, '')
      this.dirtyAll = true
      this.request()
    })
    els.toggle.addEventListener('click', () => this.setOpen(!this.open))
    this.applyOpen()
  }

  get isOpen(): boolean {
    return this.open
  }

  setOpen(open: boolean): void {
    if (open === this.open) return
    this.open = open
    this.applyOpen()
    this.dirtyAll = true // collapsed, the list was left alone: draw it afresh
    this.request()
  }

  setFilter(filter: LogFilter): void {
    this.filter = filter
    this.els.level.value = filter.minLevel
    this.els.event.value = filter.event
    this.request()
  }

  render(): void {
    const log = this.log
    this.announce()
    const filtered = this.filter.minLevel !== 'debug' || this.filter.event !== ''
    const shown = filtered ? ` · ${formatCount(log.lines(this.filter).length)} shown` : ''
    const warns = log.count('warn')
    const errors = log.count('error')
    setText(this.els.info, `${plural(log.total, 'event')}${warns > 0 ? ` · ${plural(warns, 'warning')}` : ''}${errors > 0 ? ` · ${plural(errors, 'error')}` : ''}${shown}`)
    this.els.info.dataset.level = errors > 0 ? 'error' : warns > 0 ? 'warn' : ''
    if (!this.open) return

    const list = this.els.list
    if (this.dirtyAll || !sameFilter(this.filter, this.renderedFilter)) {
      list.replaceChildren(...log.lines(this.filter, this.maxRows).map(logRow))
      this.renderedFilter = this.filter
      this.dirtyAll = false
    } else {
      const fresh = log.lines(this.filter, this.maxRows, this.renderedSeq)
      if (fresh.length > 0) {
        const fragment = document.createDocumentFragment()
        for (const line of fresh) fragment.append(logRow(line))
        list.prepend(fragment)
      }
      // The DOM keeps what the ring keeps: no more rows than maxRows, none the ring has dropped.
      let last = list.lastElementChild as HTMLElement | null
      while (last && (list.childElementCount > this.maxRows || Number(last.dataset.seq) < log.firstSeq)) {
        last.remove()
        last = list.lastElementChild as HTMLElement | null
      }
    }
    this.renderedSeq = log.lastSeq
    const none = list.childElementCount === 0
    this.els.empty.hidden = !none
    if (none) setText(this.els.empty, log.size === 0 ? 'No protocol events yet.' : 'No events match the filter.')
  }

  /** The newest error since the last render goes to the live region (polite: it waits for a pause). */
  private announce(): void {
    const [error] = this.log.lines({ minLevel: 'error', event: '' }, 1, this.alertedSeq)
    this.alertedSeq = this.log.lastSeq
    if (error) setText(this.els.alert, `Protocol error, ${error.event}: ${shortMessage(error.message)}`)
  }

  private applyOpen(): void {
    this.els.toggle.setAttribute('aria-expanded', String(this.open))
    this.els.body.hidden = !this.open
    if (this.els.tools) this.els.tools.hidden = !this.open
  }

  private request(): void {
    this.schedule(() => this.render())
  }
}

function sameFilter(a: LogFilter, b: LogFilter): boolean {
  return a.minLevel === b.minLevel && a.event === b.event
}

/** One line: time, level, event and message; opened (a native `<details>`, keyboard operable), its fields. */
export function logRow(line: LogLine): HTMLLIElement {
  const fields = fieldEntries(line.fields)
  return h(
    'li',
    { class: 'log-line', attrs: { 'data-level': line.level, 'data-event': line.event, 'data-seq': String(line.seq) } },
    h(
      'details',
      {},
      h(
        'summary',
        {},
        h('time', { class: 'log-time', text: clockTime(line.time), attrs: { datetime: new Date(line.time).toISOString() } }),
        h('span', { class: 'log-level', text: line.level }),
        h('span', { class: 'log-event', text: line.event }),
        h('span', { class: 'log-message', text: shortMessage(line.message) }),
      ),
      h('dl', { class: 'log-fields' }, ...fields.flatMap(([key, value]) => [h('dt', { text: key }), h('dd', { text: value })])),
    ),
  )
}
