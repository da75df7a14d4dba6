import {readHistory} from '@peerlab/checkers/history/read';
import {evaluate} from '@peerlab/checkers/verdict';
import {chatAt} from '@peerlab/checkers/model';
import {buildReport} from '@peerlab/report';
const h = await readHistory('/tmp/data-bench/big.jsonl');
const ev = evaluate(h); chatAt(h);
const s = performance.now();
buildReport(h, {evaluation: ev});
console.log('build', Math.round(performance.now() - s));
