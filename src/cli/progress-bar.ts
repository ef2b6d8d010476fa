/**
 * A one-line progress bar redrawn in place (`\r`), for a terminal: `[#####.....] 500/1000 rows`.
 * Returns the callback `seed` reports progress to.
 */
export function progressBar(
  stream: NodeJS.WritableStream,
  unit = "rows",
  width = 30,
): (done: number, total: number) => void {
  return (done, total) => {
    const filled = Math.round((done / total) * width);
    stream.write(`\r  [${"#".repeat(filled)}${".".repeat(width - filled)}] ${done}/${total} ${unit}`);
  };
}
