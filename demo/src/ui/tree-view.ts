import { previewPayload } from '../payload.js'
import { formatCount } from '../rate.js'
import { sortedChildren, type TopicNode, type TopicTree } from '../topic-tree.js'
import { h, setText } from './dom.js'

interface Row {
  li: HTMLLIElement
  twisty: HTMLButtonElement
  count: HTMLSpanElement
  value: HTMLSpanElement
  children: HTMLUListElement
}

/**
 * Draws the topic tree like MQTT Explorer: one row per level with its counts and, for topics, the latest
 * value. Only expanded branches have DOM; each frame touches only the rows whose node changed.
 */
export class TreeView {
  private readonly rows = new Map<TopicNode, Row>()
  private readonly open = new Set<string>()
  private readonly shut = new Set<string>()
  private readonly rootList: HTMLUListElement

  constructor(
    private readonly tree: TopicTree,
    container: HTMLElement,
    /** Levels down to this depth start expanded. */
    private readonly autoExpandDepth = 3,
    /** Children drawn per node; the rest are summarised. */
    private readonly maxChildren = 200,
  ) {
    this.rootList = h('ul', { class: 'tree-root', attrs: { role: 'tree' } })
    container.replaceChildren(this.rootList)
    this.rootList.addEventListener('click', (event) => {
      const rowEl = (event.target as Element | null)?.closest?.('.tree-row')
      const path = rowEl?.parentElement?.dataset.path
      if (path === undefined) return
      const node = this.tree.find(path)
      if (node && node.children.size > 0) this.toggle(node)
    })
  }

  isExpanded(node: TopicNode): boolean {
    if (node === this.tree.root) return true
    if (this.shut.has(node.path)) return false
    return this.open.has(node.path) || node.depth <= this.autoExpandDepth
  }

  /** Expands or collapses a node (a click on its row). */
  toggle(node: TopicNode): void {
    const row = this.rows.get(node)
    if (!row) return
    if (this.isExpanded(node)) {
      this.open.delete(node.path)
      this.shut.add(node.path)
      this.forget(node)
      row.children.replaceChildren()
    } else {
      this.shut.delete(node.path)
      this.open.add(node.path)
      this.drawChildren(node)
    }
    this.update(node, row)
  }

  render(): void {
    const { changed, grown } = this.tree.takeChanges()
    if (this.tree.root.children.size === 0) {
      this.rows.clear()
      this.rootList.replaceChildren()
    }
    for (const node of grown) {
      if ((node === this.tree.root || this.rows.has(node)) && this.isExpanded(node)) this.drawChildren(node)
    }
    for (const node of changed) {
      const row = this.rows.get(node)
      if (row) this.update(node, row)
    }
  }

  private drawChildren(node: TopicNode): void {
    const list = node === this.tree.root ? this.rootList : this.rows.get(node)?.children
    if (!list) return
    const children = sortedChildren(node)
    const items: HTMLLIElement[] = []
    for (const child of children.slice(0, this.maxChildren)) items.push((this.rows.get(child) ?? this.create(child)).li)
    list.replaceChildren(...items)
    if (children.length > this.maxChildren) {
      list.append(h('li', { class: 'tree-more', text: `… ${children.length - this.maxChildren} more` }))
    }
  }

  private create(node: TopicNode): Row {
    const twisty = h('button', { class: 'twisty', attrs: { type: 'button', tabindex: '-1', 'aria-hidden': 'true' } })
    const count = h('span', { class: 'tree-count' })
    const value = h('span', { class: 'tree-value' })
    const children = h('ul', { class: 'tree-children', attrs: { role: 'group' } })
    const li = h(
      'li',
      { class: 'tree-node', attrs: { 'data-path': node.path, role: 'treeitem' } },
      h('div', { class: 'tree-row' }, twisty, h('span', { class: 'tree-name', text: node.name === '' ? '(empty)' : node.name }), value, count),
      children,
    )
    const row: Row = { li, twisty, count, value, children }
    this.rows.set(node, row)
    this.update(node, row)
    if (node.children.size > 0 && this.isExpanded(node)) this.drawChildren(node)
    return row
  }

  private update(node: TopicNode, row: Row): void {
    const branch = node.children.size > 0
    const expanded = branch && this.isExpanded(node)
    setText(row.twisty, branch ? (expanded ? '▾' : '▸') : '')
    row.li.classList.toggle('branch', branch)
    row.li.classList.toggle('expanded', expanded)
    if (branch) row.li.setAttribute('aria-expanded', String(expanded))
    const counts = branch ? `${formatCount(node.topics)} topics · ${formatCount(node.total)} msgs` : `${formatCount(node.messages)} msgs`
    setText(row.count, counts)
    row.count.title = branch ? `${node.topics} topics, ${node.total} messages below` : `${node.messages} messages`
    if (node.last) {
      setText(row.value, previewPayload(node.last.payload, 90))
      row.value.classList.toggle('retained', node.last.retain)
    }
  }

  /** Drops the rows below `node` (collapsed): they are rebuilt on the next expand. */
  private forget(node: TopicNode): void {
    for (const child of node.children.values()) {
      if (this.rows.delete(child)) this.forget(child)
    }
  }
}
