import type { DecodedPayload } from './payload.js'

/** One level of the topic tree. A node is a topic when a message was received on exactly its path. */
export interface TopicNode {
  /** This level's name (`kitchen`), or '' for the root. */
  readonly name: string
  /** The full topic (`demo/devices/kitchen`). */
  readonly path: string
  readonly parent: TopicNode | undefined
  readonly depth: number
  /** Child levels by name, in first-seen order. */
  readonly children: Map<string, TopicNode>
  /** Messages received on exactly this topic. */
  messages: number
  /** Messages received on this topic and every topic below it. */
  total: number
  /** Distinct topics at or below this node. */
  topics: number
  /** The latest message on exactly this topic. */
  last: { payload: DecodedPayload; time: number; retain: boolean; qos: number } | undefined
}

function makeNode(name: string, parent: TopicNode | undefined): TopicNode {
  return {
    name,
    path: parent === undefined ? '' : parent.parent === undefined ? name : `${parent.path}/${name}`,
    parent,
    depth: parent === undefined ? 0 : parent.depth + 1,
    children: new Map(),
    messages: 0,
    total: 0,
    topics: 0,
    last: undefined,
  }
}

/**
 * Every topic seen, as a tree of levels (what MQTT Explorer shows): each node knows its latest value and
 * counts. Changes are collected so a view can redraw only the nodes that changed since its last frame.
 *
 * @example
 * ```ts
 * const tree = new TopicTree()
 * tree.add('demo/devices/kitchen/telemetry', decodePayload(raw), Date.now(), false, 0)
 * tree.find('demo/devices')?.total // 1
 * ```
 */
export class TopicTree {
  readonly root: TopicNode = makeNode('', undefined)
  /** Topics not added because the tree was full. */
  dropped = 0
  private changed = new Set<TopicNode>()
  private grown = new Set<TopicNode>()

  /** `maxTopics` caps memory when a wildcard subscription meets a firehose of distinct topics. */
  constructor(readonly maxTopics = 5_000) {}

  /** Distinct topics in the tree. */
  get size(): number {
    return this.root.topics
  }

  /** Records a message on `topic`. Returns the topic's node, or undefined when the tree is full. */
  add(topic: string, payload: DecodedPayload, time: number, retain = false, qos = 0): TopicNode | undefined {
    const levels = topic.split('/')
    let node = this.root
    const path: TopicNode[] = [node]
    for (const level of levels) {
      let child = node.children.get(level)
      if (child === undefined) {
        if (this.root.topics >= this.maxTopics) {
          this.dropped++
          return undefined
        }
        child = makeNode(level, node)
        node.children.set(level, child)
        this.grown.add(node)
      }
      node = child
      path.push(node)
    }
    const isNewTopic = node.messages === 0
    node.messages++
    node.last = { payload, time, retain, qos }
    for (const n of path) {
      n.total++
      if (isNewTopic) n.topics++
      this.changed.add(n)
    }
    return node
  }

  /** The node for `topic` (`''` for the root), if seen. */
  find(topic: string): TopicNode | undefined {
    if (topic === '') return this.root
    let node: TopicNode | undefined = this.root
    for (const level of topic.split('/')) {
      node = node.children.get(level)
      if (node === undefined) return undefined
    }
    return node
  }

  /** Nodes whose counts or value changed, and nodes that got new children, since the last call. */
  takeChanges(): { changed: Set<TopicNode>; grown: Set<TopicNode> } {
    const out = { changed: this.changed, grown: this.grown }
    this.changed = new Set()
    this.grown = new Set()
    return out
  }

  clear(): void {
    this.root.children.clear()
    this.root.messages = this.root.total = this.root.topics = 0
    this.root.last = undefined
    this.dropped = 0
    this.changed = new Set([this.root])
    this.grown = new Set([this.root])
  }
}

/** Children in display order: levels sorted naturally (`device-2` before `device-10`). */
export function sortedChildren(node: TopicNode): TopicNode[] {
  return [...node.children.values()].sort((a, b) => collator.compare(a.name, b.name))
}

const collator = new Intl.Collator('en', { numeric: true, sensitivity: 'base' })
