interface TrieNode<V> {
  children: Map<string, TrieNode<V>> | undefined
  /** Values whose filter ends at this node. */
  values: V[] | undefined
  /** Values whose filter ends with `#` below this node. */
  hashValues: V[] | undefined
}

const node = <V>(): TrieNode<V> => ({ children: undefined, values: undefined, hashValues: undefined })

/**
 * Topic filters in a trie keyed by level, so that finding every filter a topic matches costs the depth of
 * the topic (times the wildcard branches), not the number of filters.
 *
 * @example
 * ```ts
 * const trie = new TopicTrie<string>()
 * trie.add('rooms/+/temp', 'widget-1')
 * trie.match('rooms/kitchen/temp') // ['widget-1']
 * ```
 */
export class TopicTrie<V> {
  private readonly root: TrieNode<V> = node()
  #count = 0

  /** How many values are stored. */
  get size(): number {
    return this.#count
  }

  /** Stores `value` under `filter` (a valid MQTT filter without a `$share/` prefix). */
  add(filter: string, value: V): void {
    let current = this.root
    const levels = filter.split('/')
    for (let i = 0; i < levels.length; i++) {
      const level = levels[i] as string
      if (level === '#' && i === levels.length - 1) {
        current.hashValues = append(current.hashValues, value)
        this.#count++
        return
      }
      current.children ??= new Map()
      let child = current.children.get(level)
      if (!child) {
        child = node()
        current.children.set(level, child)
      }
      current = child
    }
    current.values = append(current.values, value)
    this.#count++
  }

  /** Removes one `value` stored under `filter`; returns whether it was there. Prunes empty branches. */
  remove(filter: string, value: V): boolean {
    const levels = filter.split('/')
    const path: TrieNode<V>[] = [this.root]
    let current = this.root
    const last = levels.length - 1
    const isHash = levels[last] === '#'
    for (let i = 0; i < (isHash ? last : levels.length); i++) {
      const child = current.children?.get(levels[i] as string)
      if (!child) return false
      path.push(child)
      current = child
    }
    const list = isHash ? current.hashValues : current.values
    const index = list ? list.indexOf(value) : -1
    if (!list || index === -1) return false
    list.splice(index, 1)
    this.#count--
    // Prune nodes that hold nothing any more, from the leaf up.
    for (let i = path.length - 1; i > 0; i--) {
      const n = path[i] as TrieNode<V>
      if (n.values?.length || n.hashValues?.length || n.children?.size) break
      ;(path[i - 1] as TrieNode<V>).children?.delete(levels[i - 1] as string)
    }
    return true
  }

  /** Every value whose filter matches `topic`, `$`-topics excepted from first-level wildcards. */
  match(topic: string): V[] {
    const out: V[] = []
    const levels = topic.split('/')
    const dollar = topic.charCodeAt(0) === 36 /* $ */
    this.#walk(this.root, levels, 0, out, dollar)
    return out
  }

  #walk(current: TrieNode<V>, levels: string[], depth: number, out: V[], dollar: boolean): void {
    const wildcardsAllowed = !(dollar && depth === 0)
    // `a/#` matches `a` itself as well as everything below it.
    if (current.hashValues && wildcardsAllowed) out.push(...current.hashValues)
    if (depth === levels.length) {
      if (current.values) out.push(...current.values)
      return
    }
    const children = current.children
    if (!children) return
    const exact = children.get(levels[depth] as string)
    if (exact) this.#walk(exact, levels, depth + 1, out, dollar)
    if (wildcardsAllowed) {
      const plus = children.get('+')
      if (plus) this.#walk(plus, levels, depth + 1, out, dollar)
    }
  }
}

/**
 * `values` with `value` added, in a new array of exactly that length: a node's values are almost always one,
 * and `[].push()` (or a spread) would give that one a backing store of 17 slots.
 */
function append<V>(values: V[] | undefined, value: V): V[] {
  return values ? values.concat([value]) : [value]
}
