// Assertions run inside XS, summed over the XS suite's files; the root hook
// below prints the total once every suite has run.

export const xsTally = { assertions: 0, suites: 0 };

after(() => {
  if (xsTally.suites > 0) console.log(`  ${xsTally.assertions} assertions ran inside XS in all (${xsTally.suites} suites)\n`);
});
