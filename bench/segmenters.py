"""jieba against rjieba for the matching analyzer (issue 5: "measure both").

    .venv/bin/python bench/segmenters.py [--repeat 20]

Segments every text of bench/matching_eval (titles, descriptions, summaries) with the project's Analyzer built on
each segmenter — the same domain dictionary, related terms and stop words — and reports characters per second
(median of --repeat passes, after one warm-up pass), the load time of the dictionary, and whether both produce
the same terms (they implement the same dictionary and algorithm; any difference would show in the quality).
"""

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from brokers.text import Analyzer  # noqa: E402


def texts() -> list[str]:
    out = []
    for path in sorted((BASE_DIR / "bench" / "matching_eval").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            out += [record.get("title", ""), record.get("description", ""), record.get("summary", "")]
    return [t for t in out if t]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    corpus = texts()
    characters = sum(len(t) for t in corpus)
    results = {}
    for name in ("jieba", "rjieba"):
        started = time.perf_counter()
        analyzer = Analyzer(segmenter=name)
        analyzer.terms("预热：注塑件表面银纹")
        load = time.perf_counter() - started
        [analyzer.terms(t) for t in corpus]  # warm-up
        timings = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            terms = [analyzer.terms(t) for t in corpus]
            timings.append(time.perf_counter() - started)
        results[name] = {"load_s": load, "median_s": statistics.median(timings), "terms": terms}
        print(
            f"{name:7s} dictionary load {load:5.2f} s; {len(corpus)} texts, {characters:,} characters: "
            f"median {statistics.median(timings) * 1000:7.1f} ms per pass = "
            f"{characters / statistics.median(timings) / 1000:8.1f} k characters/s"
        )
    same = sum(a == b for a, b in zip(results["jieba"]["terms"], results["rjieba"]["terms"], strict=True))
    print(f"same terms for {same} of {len(corpus)} texts")
    print(f"rjieba is {results['jieba']['median_s'] / results['rjieba']['median_s']:.1f}× faster")


if __name__ == "__main__":
    main()
