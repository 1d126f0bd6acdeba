// The changes the store crash test's child makes, in order and in batches (one batch a turn), from a seed:
// the parent computes the same sequence to know every state the store may be found in after a kill.
export interface CrashOp {
  readonly type: 'add' | 'rm'
  readonly id: number
}

export function* crashBatches(seed: number): Generator<CrashOp[]> {
  let state = seed
  const random = (): number => (state = (state * 1103515245 + 12345) % 2147483648) / 2147483648
  let next = 0
  const live: number[] = []
  for (;;) {
    const batch: CrashOp[] = []
    const count = 1 + Math.floor(random() * 40)
    for (let i = 0; i < count; i++) {
      if (live.length > 0 && random() < 0.4) batch.push({ type: 'rm', id: live.splice(Math.floor(random() * live.length), 1)[0] as number })
      else {
        live.push(next)
        batch.push({ type: 'add', id: next++ })
      }
    }
    yield batch
  }
}

/** The payload of message `id`: its length and bytes tell a message written whole. */
export const crashPayload = (id: number): Uint8Array => new Uint8Array(1 + (id % 300)).fill(id % 251)
