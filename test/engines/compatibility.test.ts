// test/engines/COMPATIBILITY.md and the table of docs/guide/scaling-out.md say exactly what the engine
// declarations say, and the declarations are what the shared behaviour suite and the cluster test assert on
// each engine.
import { readFileSync } from 'node:fs'
import { expect, it } from 'vitest'
import { compatibilityFile, renderCompatibility, renderCompatibilityTable } from '../support/engines/compatibility.js'
import { markdown } from '../readme/readme-kit.js'

it('COMPATIBILITY.md is rendered from the engine declarations (npx tsx test/support/engines/compatibility.ts --write)', () => {
  expect(readFileSync(compatibilityFile, 'utf8')).toBe(renderCompatibility())
})

it("the Scaling out page's engines table is the one rendered from the declarations", () => {
  expect(markdown('docs/guide/scaling-out.md').includes(renderCompatibilityTable()), 'paste test/engines/COMPATIBILITY.md (without its comment) into docs/guide/scaling-out.md').toBe(true)
})
