/**
 * A first-in, first-out queue whose `shift()` costs the same however long the queue: an array read from a
 * moving head (Array.prototype.shift moves every element, and a busy engine can leave thousands waiting).
 *
 * @example
 * ```ts
 * const queue = new Fifo<string>()
 * queue.push('a')
 * queue.push('b')
 * queue.shift() // 'a'
 * queue.size    // 1
 * ```
 */
export class Fifo<T> {
  #items: (T | undefined)[] = []
  #head = 0

  get size(): number {
    return this.#items.length - this.#head
  }

  push(item: T): void {
    this.#items.push(item)
  }

  shift(): T | undefined {
    if (this.#head === this.#items.length) return undefined
    const item = this.#items[this.#head]
    this.#items[this.#head] = undefined
    this.#head += 1
    // Emptied: start again at 0; half read: drop the read part, so memory follows what waits.
    if (this.#head === this.#items.length) this.clear()
    else if (this.#head > 1_024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head)
      this.#head = 0
    }
    return item
  }

  /** Takes everything out, oldest first. */
  clear(): T[] {
    const rest = this.#items.slice(this.#head) as T[]
    this.#items = []
    this.#head = 0
    return rest
  }
}
