/**
 * The SVG `points` of a sparkline for `values`, scaled into a `width` × `height` box with `pad` pixels of
 * margin. A flat series is drawn through the middle; fewer than two values draw nothing.
 *
 * @example
 * ```ts
 * sparklinePoints([1, 3, 2], 60, 20) // '2,18 30,2 58,10'
 * ```
 */
export function sparklinePoints(values: readonly number[], width: number, height: number, pad = 2): string {
  if (values.length < 2) return ''
  let min = Infinity
  let max = -Infinity
  for (const v of values) {
    if (v < min) min = v
    if (v > max) max = v
  }
  const innerW = width - pad * 2
  const innerH = height - pad * 2
  const span = max - min
  const step = innerW / (values.length - 1)
  const out: string[] = []
  for (let i = 0; i < values.length; i++) {
    const x = pad + i * step
    const y = span === 0 ? height / 2 : pad + innerH - (((values[i] as number) - min) / span) * innerH
    out.push(`${round(x)},${round(y)}`)
  }
  return out.join(' ')
}

/** The same line closed along the bottom edge, for a filled area under the sparkline. */
export function sparklineArea(points: string, width: number, height: number, pad = 2): string {
  if (points === '') return ''
  return `${pad},${height} ${points} ${width - pad},${height}`
}

const round = (n: number) => Math.round(n * 10) / 10

/** A fixed-size history of numbers, oldest first. */
export class Series {
  readonly values: number[] = []
  constructor(readonly capacity = 60) {}
  push(value: number): void {
    this.values.push(value)
    if (this.values.length > this.capacity) this.values.shift()
  }
  get last(): number | undefined {
    return this.values[this.values.length - 1]
  }
}
