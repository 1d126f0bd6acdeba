import { firstValueFrom, type Observable, timeout, filter, take, toArray } from 'rxjs'

/** Resolves when `check()` returns a truthy value; rejects after `ms`. Polls every `everyMs`. */
export async function waitFor<T>(check: () => T | Promise<T>, what: string, ms = 10_000, everyMs = 20): Promise<NonNullable<T>> {
  const deadline = Date.now() + ms
  for (;;) {
    const value = await check()
    if (value) return value as NonNullable<T>
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, everyMs))
  }
}

/** The first value of `source$` that passes `predicate`, or a timeout error naming `what`. */
export function next<T>(source$: Observable<T>, what: string, predicate: (v: T) => boolean = () => true, ms = 10_000): Promise<T> {
  return firstValueFrom(
    source$.pipe(
      filter(predicate),
      timeout({ first: ms, with: () => { throw new Error(`timed out after ${ms} ms waiting for ${what}`) } }),
    ),
  )
}

/** The first `count` values of `source$`, or a timeout error naming `what`. */
export function collect<T>(source$: Observable<T>, count: number, what: string, ms = 10_000): Promise<T[]> {
  return firstValueFrom(
    source$.pipe(
      take(count),
      toArray(),
      timeout({ first: ms, each: ms, with: () => { throw new Error(`timed out after ${ms} ms waiting for ${count} × ${what}`) } }),
    ),
  )
}

let counter = 0
/** A topic prefix no other test (or earlier run) uses. */
export function uniquePrefix(name = 't'): string {
  counter += 1
  return `iotpubsub-test/${name}-${process.pid}-${Date.now().toString(36)}-${counter}`
}
