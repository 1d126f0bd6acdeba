// What both flood pages share: the 50 widgets' markup, and the measurement taken in the page (animation
// frames, React commits through a Profiler, the messages the widgets showed). Each page supplies only how a
// widget reads its topic. The pages use createElement, as the rest of the repository's React code does.
import { createElement as h, Profiler, useLayoutEffect, type ReactNode } from 'react'
import { createRoot } from 'react-dom/client'

/** The payload the bench publishes: a per-topic sequence number and a value to show. */
export interface Reading {
  readonly seq: number
  readonly value: number
}

/** What `window.flood.stop()` returns: the page's own view of the measured window. */
export interface FloodStats {
  /** Milliseconds between start() and stop(), by the page's clock. */
  readonly ms: number
  /** requestAnimationFrame callbacks in the window. */
  readonly frames: number
  /** The longest time between two consecutive frames, ms (or from start to the first frame). */
  readonly longestGapMs: number
  /** React commits of the app (Profiler onRender) in the window. */
  readonly commits: number
  /** Messages published in the window that the widgets showed: per topic, how far its shown sequence moved. */
  readonly seen: number
}

/** The control the bench drives through page.evaluate. */
export interface FloodControl {
  /** Every widget has shown a message (its subscription is live). */
  ready(): boolean
  start(): void
  stop(): FloodStats
}

declare global {
  interface Window {
    flood?: FloodControl
  }
}

const params = new URLSearchParams(location.search)
/** The broker's ws:// URL, the topic prefix and the number of widgets, from the page's query. */
export const config = {
  url: params.get('url') ?? '',
  prefix: params.get('prefix') ?? 'flood',
  widgets: Number(params.get('widgets') ?? 50),
  throttle: params.get('throttle') ?? 'frame',
}

const shown = new Array<number>(config.widgets).fill(-1)
let measuring = false
let commits = 0

/** One widget's markup, the same on both pages; records (after the commit) which message it shows. */
export function Widget({ index, reading }: { index: number; reading: Reading | undefined }): ReactNode {
  useLayoutEffect(() => {
    if (reading) shown[index] = reading.seq
  }, [index, reading])
  const value = reading?.value ?? 0
  return h(
    'div',
    { className: 'widget' },
    h('span', null, `sensor ${index}`),
    h('b', null, reading ? value.toFixed(2) : '…'),
    h('div', { style: { height: 4, width: `${Math.round(value)}%`, background: '#4a8' } }),
  )
}

/** Renders the page's app inside a Profiler that counts commits, and installs `window.flood`. */
export function mount(app: ReactNode): void {
  const root = document.createElement('div')
  document.body.append(root)
  const onRender = (): void => {
    if (measuring) commits++
  }
  createRoot(root).render(h(Profiler, { id: 'flood', onRender }, app))

  let started = 0
  let frames = 0
  let longest = 0
  let last = 0
  let baseline = 0
  const total = (): number => shown.reduce((sum, seq) => sum + Math.max(0, seq), 0)
  const frame = (now: number): void => {
    if (!measuring) return
    frames++
    longest = Math.max(longest, now - last)
    last = now
    requestAnimationFrame(frame)
  }
  window.flood = {
    ready: () => shown.every((seq) => seq >= 0),
    start() {
      measuring = true
      commits = 0
      frames = 0
      longest = 0
      started = last = performance.now()
      baseline = total()
      requestAnimationFrame(frame)
    },
    stop() {
      const now = performance.now()
      measuring = false
      return { ms: now - started, frames, longestGapMs: Math.max(longest, now - last), commits, seen: total() - baseline }
    },
  }
}
