// A loopback stand-in for an OpenAI-compatible chat-completions endpoint,
// for the LLM explainer tests.  node fake_llm.mjs PORT LOGFILE
// The path picks the behaviour: /ok, /error (HTTP 500), /slow (answers after
// 30 s), /garbage (200 with a body that is not JSON), /nochoices.
// Every request is appended to LOGFILE as one JSON line (headers and body).
import http from 'node:http';
import fs from 'node:fs';

const [port, log] = process.argv.slice(2);
const server = http.createServer((req, res) => {
	let body = '';
	req.on('data', (c) => { body += c; });
	req.on('end', () => {
		fs.appendFileSync(log, JSON.stringify({ path: req.url, headers: req.headers, body }) + '\n');
		const mode = req.url.split('/')[1];
		if (mode === 'error') {
			res.writeHead(500, { 'Content-Type': 'application/json' });
			res.end('{"error":{"message":"model overloaded"}}');
		} else if (mode === 'slow') {
			setTimeout(() => { res.writeHead(200); res.end('{}'); }, 30000);
		} else if (mode === 'garbage') {
			res.writeHead(200, { 'Content-Type': 'application/json' });
			res.end('this is not json');
		} else if (mode === 'nochoices') {
			res.writeHead(200, { 'Content-Type': 'application/json' });
			res.end('{"id":"x","choices":[]}');
		} else {
			let evidence = {};
			try { evidence = JSON.parse(JSON.parse(body).messages[1].content); } catch (e) { /* keep {} */ }
			const answer = `Explainer: ${evidence.finding || 'no finding'}; the rule ${evidence.rule} chose ${evidence.action}.`;
			res.writeHead(200, { 'Content-Type': 'application/json' });
			res.end(JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion',
				choices: [{ index: 0, message: { role: 'assistant', content: answer }, finish_reason: 'stop' }] }));
		}
	});
});
server.listen(Number(port), '127.0.0.1', () => console.log('listening'));
