import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'

/**
 * The kernel hands out source ports for outgoing connections from its ephemeral range: a port picked
 * there can be taken by any client socket of any test between the pick and the broker's bind. Ports are
 * therefore picked below that range, where only listeners live.
 */
function ephemeralStart(): number {
  try {
    const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)
    const start = Number(low)
    return Number.isInteger(start) && start > 12_000 ? start : 32_768
  } catch {
    return 32_768 // Linux's default, and below the 49152 of other systems
  }
}

const LOWEST = 10_000
const HIGHEST = ephemeralStart() - 1
/** Ports the machine's own services use, whatever their range. */
const RESERVED = new Set([15_672, 25_672])
const handedOut = new Set<number>()

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer()
    server.unref()
    server.once('error', () => resolve(false))
    server.listen({ port }, () => server.close(() => resolve(true)))
  })
}

/** A port that is free on every interface now, outside the ephemeral range, never handed out twice by this process. */
export async function freePort(): Promise<number> {
  for (let tries = 0; tries < 200; tries++) {
    const port = LOWEST + Math.floor(Math.random() * (HIGHEST - LOWEST + 1))
    if (handedOut.has(port) || RESERVED.has(port)) continue
    if (await bindable(port)) {
      handedOut.add(port)
      return port
    }
  }
  throw new Error(`no free port found between ${LOWEST} and ${HIGHEST}`)
}
