// test/engines/COMPATIBILITY.md says exactly what the engine declarations say, and the declarations are
// what the shared behaviour suite and the cluster test assert on each engine.
import { readFileSync } from 'node:fs'
import { expect, it } from 'vitest'
import { compatibilityFile, renderCompatibility } from '../support/engines/compatibility.js'

it('COMPATIBILITY.md is rendered from the engine declarations (npx tsx test/support/engines/compatibility.ts --write)', () => {
  expect(readFileSync(compatibilityFile, 'utf8')).toBe(renderCompatibility())
})
