// Preloaded by bench/scale.ts into the CLI it measures: at exit, the process's peak RSS on stderr.
process.on('exit', () => {
  process.stderr.write(`\n@@peak-rss ${process.resourceUsage().maxRSS * 1024}\n`);
});
