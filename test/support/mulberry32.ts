/**
 * A small seeded PRNG (mulberry32) for the seeded tests: the same seed gives the same cases, so a failure names
 * its seed and reproduces.
 *
 * @example `const rng = mulberry32(42); rng() // 0 <= x < 1`
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}
