import { accessSync, constants } from 'node:fs'
import { delimiter, join } from 'node:path'

const inCI = Boolean(process.env.CI)

/** Finds an executable on PATH (and in the sbin folders where Debian puts daemons). */
export function findBinary(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin', '/sbin']
  for (const dir of dirs) {
    if (!dir) continue
    const candidate = join(dir, name)
    try {
      accessSync(candidate, constants.X_OK)
      return candidate
    } catch {
      // not here; try the next folder
    }
  }
  return undefined
}

/**
 * True when a suite that needs `name` must be skipped. In CI a missing binary is never a skip: the
 * suite runs and fails. Locally the skip is announced loudly, so nobody mistakes it for a pass.
 */
export function missing(name: string, installHint: string): boolean {
  if (findBinary(name)) return false
  if (inCI) return false
  process.stderr.write(
    `\n!!! SKIPPING tests that need ${name}: it is not installed. ${installHint}\n` +
      `!!! (With CI=true these tests run and fail instead of skipping.)\n\n`,
  )
  return true
}

export const noMosquitto = (): boolean => missing('mosquitto', 'Install it: apt-get install mosquitto mosquitto-clients')
