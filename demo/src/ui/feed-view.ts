import type { Feed, FeedEntry } from '../feed.js'
import { formatBytes, jsonTokens, prettyPayload } from '../payload.js'
import { formatCount } from '../rate.js'
import { clockTime, h, setText } from './dom.js'

/**
 * Draws the live feed, newest first, at most `maxRows` rows. Incremental: each frame prepends only the
 * entries that arrived since the last one and trims the tail. Paused, it stays still and counts.
 */
export class FeedView {
  private renderedSeq = 0
  private renderedFilter = ''
  private frozen = false
  private dirtyAll = true

  constructor(
    private readonly feed: Feed,
    private readonly list: HTMLElement,
    private readonly info: HTMLElement,
    readonly maxRows = 100,
    /** New rows drawn per render at most: at thousands of messages per second only the newest are shown. */
    readonly maxNewRows = 25,
  ) {
    // One listener for every row: a click opens or closes a long payload.
    list.addEventListener('click', (event) => {
      const row = (event.target as Element | null)?.closest?.('.msg')
      if (row && !window.getSelection()?.toString()) row.classList.toggle('open')
    })
  }

  /** Forces a full redraw on the next render (after clear). */
  invalidate(): void {
    this.dirtyAll = true
  }

  render(): void {
    const feed = this.feed
    const filterChanged = feed.filter !== this.renderedFilter
    if (feed.paused) {
      setText(this.info, `Paused · ${formatCount(feed.arrivedWhilePaused)} new`)
      if (!this.frozen || filterChanged || this.dirtyAll) this.redraw()
      this.frozen = true
      return
    }
    if (this.frozen || filterChanged || this.dirtyAll) {
      this.redraw()
    } else {
      const fresh = feed.view(this.maxNewRows, this.renderedSeq)
      if (fresh.length > 0) {
        const fragment = document.createDocumentFragment()
        for (const entry of fresh) fragment.append(feedRow(entry))
        this.list.prepend(fragment)
        while (this.list.childElementCount > this.maxRows) this.list.lastElementChild?.remove()
      }
    }
    this.frozen = false
    this.renderedSeq = feed.lastSeq
    const shown = this.list.childElementCount
    setText(this.info, `${formatCount(feed.received)} received${feed.filter ? ` · ${shown} shown` : ''}`)
  }

  private redraw(): void {
    this.list.replaceChildren(...this.feed.view(this.maxRows).map(feedRow))
    this.renderedFilter = this.feed.filter
    this.renderedSeq = this.feed.lastSeq
    this.dirtyAll = false
  }
}

/** One feed row: topic, flags, time, and the payload pretty-printed. */
export function feedRow(entry: FeedEntry): HTMLLIElement {
  const p = entry.payload
  const pretty = prettyPayload(p)
  const row = h(
    'li',
    { class: `msg${p.isJson ? ' json' : ''}${p.binary ? ' binary' : ''}`, attrs: { 'data-topic': entry.topic } },
    h(
      'div',
      { class: 'msg-head' },
      h('span', { class: 'msg-topic', text: entry.topic }),
      entry.retain ? h('span', { class: 'tag tag-retain', text: 'retained' }) : null,
      h('span', { class: 'tag', text: `QoS ${entry.qos}` }),
      h('span', { class: 'msg-size', text: formatBytes(p.size) }),
      h('time', { class: 'msg-time', text: clockTime(entry.time) }),
    ),
    payloadBlock(pretty, p.isJson),
  )
  if (pretty.split('\n', 7).length > 6 || pretty.length > 400) row.classList.add('long')
  return row
}

/** The payload in a `<pre>`, JSON coloured by token (as text nodes: nothing is parsed as HTML). */
export function payloadBlock(pretty: string, isJson: boolean): HTMLPreElement {
  const pre = h('pre', { class: 'msg-payload' })
  if (pretty.length === 0) {
    pre.textContent = '(empty payload)'
    pre.classList.add('empty-payload')
  } else if (!isJson) {
    pre.textContent = pretty
  } else {
    for (const token of jsonTokens(pretty)) {
      pre.append(token.kind === 'plain' ? token.text : h('span', { class: `j-${token.kind}`, text: token.text }))
    }
  }
  return pre
}
