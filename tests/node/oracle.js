#!/usr/bin/env node
// Test oracle: runs Segment's own libraries on a JSON array of cases read from stdin and writes
// a JSON array of results to stdout (one process per batch keeps thousands of cases fast).
//
// Case shapes and results:
//   {op: "parse", fql}                    -> {ok: ast} | {error}
//   {op: "generate", ast}                 -> {ok: text} | {error}
//   {op: "validate", ast, events: [...]}  -> {ok: [bool, ...]} | {error}
//   {op: "transform", mapping, event}     -> {ok: value} | {missing: true} | {error}
//   {op: "bench", ast, events, rounds}    -> {ok: {events, seconds}}
'use strict'

const { parseFql, generateFql, validate } = require('@segment/destination-subscriptions')
const { transform } = require('@segment/actions-core')

function errorText(error) {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error)
}

function run(testCase) {
  try {
    switch (testCase.op) {
      case 'parse': {
        const ast = parseFql(testCase.fql)
        return ast.error ? { error: errorText(ast.error) } : { ok: ast }
      }
      case 'generate':
        return { ok: generateFql(testCase.ast) }
      case 'validate':
        return { ok: testCase.events.map((event) => validate(testCase.ast, event)) }
      case 'transform': {
        const result = transform({ data: testCase.mapping }, testCase.event)
        return 'data' in result ? { ok: result.data } : { missing: true }
      }
      case 'bench': {
        const { ast, events, rounds } = testCase
        let matched = 0
        const start = process.hrtime.bigint()
        for (let round = 0; round < rounds; round++) {
          for (const event of events) {
            if (validate(ast, event)) matched++
          }
        }
        const seconds = Number(process.hrtime.bigint() - start) / 1e9
        return { ok: { events: events.length * rounds, seconds, matched } }
      }
      default:
        return { error: `unknown op ${testCase.op}` }
    }
  } catch (error) {
    return { error: errorText(error) }
  }
}

const chunks = []
process.stdin.on('data', (chunk) => chunks.push(chunk))
process.stdin.on('end', () => {
  const cases = JSON.parse(Buffer.concat(chunks).toString('utf8'))
  process.stdout.write(JSON.stringify(cases.map(run)))
})
