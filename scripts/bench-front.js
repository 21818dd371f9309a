// Equal-budget Pareto fronts: `npm run bench -- front [options]` is `extra bench front [options]`
// (see `extra bench --help`); kept so the benchmark commands stay in one place.
const { main } = await import('../dist/cli/main.js');
process.exitCode = await main(['bench', 'front', ...process.argv.slice(2)]);
