type Child = Node | string | null | undefined | false

/**
 * Creates an element: `h('span', { class: 'badge', text: 'ok' })`, `h('li', {}, child1, child2)`.
 * Attributes go through `setAttribute`, text through `textContent`: nothing is parsed as HTML, so message
 * payloads can never inject markup.
 */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: { class?: string; text?: string; title?: string; attrs?: Record<string, string> } = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag)
  if (props.class) el.className = props.class
  if (props.text !== undefined) el.textContent = props.text
  if (props.title !== undefined) el.title = props.title
  for (const [name, value] of Object.entries(props.attrs ?? {})) el.setAttribute(name, value)
  for (const child of children) if (child !== null && child !== undefined && child !== false) el.append(child)
  return el
}

const SVG = 'http://www.w3.org/2000/svg'

/** Creates an SVG element with attributes. */
export function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string> = {}): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG, tag)
  for (const [name, value] of Object.entries(attrs)) el.setAttribute(name, value)
  return el
}

/** Sets text only when it changed (a DOM write costs more than a compare). */
export function setText(el: Element, text: string): void {
  if (el.textContent !== text) el.textContent = text
}

/** Finds a required element by id; throws a clear error when the page and the script disagree. */
export function byId<T extends HTMLElement = HTMLElement>(id: string, root: Document | DocumentFragment = document): T {
  const el = root.getElementById(id)
  if (!el) throw new Error(`#${id} is missing from the page`)
  return el as T
}

/** `14:03:27.120` */
export function clockTime(time: number): string {
  const d = new Date(time)
  const pad = (n: number, w = 2) => String(n).padStart(w, '0')
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`
}
