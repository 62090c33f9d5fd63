#!/usr/bin/env node
// The Node side of bench/bench_backtest.py: the same backtest work with Segment's own
// `validate` from @segment/destination-subscriptions (the copy installed in tests/node).
//
//   node bench/backtest_node.js TRIGGERS.json FILE...         end to end: gunzip (streamed),
//       JSON.parse per line, validate every trigger, count matches, people and days
//   node bench/backtest_node.js --eval ROUNDS TRIGGERS.json FILE
//       evaluation alone: the events parsed first, then only validate is timed
// Prints one JSON object: {events, matched: [...], people: [...], seconds}.
'use strict'

const fs = require('fs')
const path = require('path')
const zlib = require('zlib')
const { createRequire } = require('module')

const requireFromTests = createRequire(path.join(__dirname, '..', 'tests', 'node', 'package.json'))
const { validate } = requireFromTests('@segment/destination-subscriptions')

function personOf(event) {
  if (typeof event.userId === 'string' && event.userId !== '') return 'u:' + event.userId
  if (typeof event.anonymousId === 'string' && event.anonymousId !== '') return 'a:' + event.anonymousId
  return null
}

function dayOf(event) {
  const stamp = event.timestamp
  return typeof stamp === 'string' ? stamp.slice(0, 10) : 'unknown'
}

function makeTally(triggers) {
  return {
    events: 0,
    bad: 0,
    matched: triggers.map(() => 0),
    people: triggers.map(() => new Set()),
    days: triggers.map(() => new Map()),
  }
}

function count(tally, triggers, event) {
  tally.events++
  for (let i = 0; i < triggers.length; i++) {
    if (validate(triggers[i], event)) {
      tally.matched[i]++
      const who = personOf(event)
      if (who !== null) tally.people[i].add(who)
      const day = dayOf(event)
      tally.days[i].set(day, (tally.days[i].get(day) || 0) + 1)
    }
  }
}

function scanFile(file, triggers, tally) {
  return new Promise((resolve, reject) => {
    let stream = fs.createReadStream(file, { highWaterMark: 1 << 20 })
    if (file.endsWith('.gz')) stream = stream.pipe(zlib.createGunzip({ chunkSize: 1 << 20 }))
    let rest = ''
    stream.setEncoding('utf8')
    stream.on('data', (chunk) => {
      const lines = (rest + chunk).split('\n')
      rest = lines.pop()
      for (const line of lines) {
        if (line.trim() === '') continue
        let event
        try {
          event = JSON.parse(line)
        } catch (error) {
          tally.bad++
          continue
        }
        count(tally, triggers, event)
      }
    })
    stream.on('end', () => {
      if (rest.trim() !== '') {
        try {
          count(tally, triggers, JSON.parse(rest))
        } catch (error) {
          tally.bad++
        }
      }
      resolve()
    })
    stream.on('error', reject)
  })
}

async function main(argv) {
  const evalOnly = argv[0] === '--eval'
  const rounds = evalOnly ? Number(argv[1]) : 1
  const rest = evalOnly ? argv.slice(2) : argv
  const triggers = JSON.parse(fs.readFileSync(rest[0], 'utf8'))
  const files = rest.slice(1)
  if (evalOnly) {
    const events = zlib.gunzipSync(fs.readFileSync(files[0])).toString('utf8').split('\n')
      .filter((line) => line.trim() !== '').map((line) => JSON.parse(line))
    let best = Infinity
    let tally = null
    for (let round = 0; round < rounds + 1; round++) {
      tally = makeTally(triggers)
      const start = process.hrtime.bigint()
      for (const event of events) {
        tally.events++
        for (let i = 0; i < triggers.length; i++) if (validate(triggers[i], event)) tally.matched[i]++
      }
      const seconds = Number(process.hrtime.bigint() - start) / 1e9
      if (round > 0) best = Math.min(best, seconds) // round 0 warms the JIT up
    }
    process.stdout.write(JSON.stringify({ events: tally.events, matched: tally.matched, seconds: best }))
    return
  }
  const start = process.hrtime.bigint()
  const tally = makeTally(triggers)
  for (const file of files) await scanFile(file, triggers, tally)
  const seconds = Number(process.hrtime.bigint() - start) / 1e9
  process.stdout.write(JSON.stringify({
    events: tally.events,
    bad: tally.bad,
    matched: tally.matched,
    people: tally.people.map((set) => set.size),
    seconds,
  }))
}

main(process.argv.slice(2)).catch((error) => {
  process.stderr.write(String(error && error.stack || error) + '\n')
  process.exit(1)
})
