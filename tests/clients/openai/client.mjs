// Drives a PdRdma server with the official openai npm client; prints one JSON object with what it saw.
// usage: node client.mjs <base-url, e.g. http://127.0.0.1:8000/v1> <model>
import OpenAI from "openai";

const [baseURL, model] = process.argv.slice(2);
const client = new OpenAI({ baseURL, apiKey: "none", maxRetries: 0, timeout: 120000 });
const out = {};

async function refusal(name, call) {
  try {
    await call();
    out[name] = { status: 200 };
  } catch (e) {
    out[name] = { status: e.status ?? null, type: e.type ?? null, param: e.param ?? null, code: e.code ?? null, message: e.message };
  }
}

console.error("step: const c = await client.completions.create({ model, prompt: '");
const c = await client.completions.create({ model, prompt: "Once upon a time", max_tokens: 24, temperature: 0 });
out.completion = { text: c.choices[0].text, finish_reason: c.choices[0].finish_reason, usage: c.usage, object: c.object };

let text = "", finish = null, usage = null, chunks = 0;
console.error("step: const stream = await client.completions.create({ model, prom");
const stream = await client.completions.create({ model, prompt: "Once upon a time", max_tokens: 24, temperature: 0, stream: true, stream_options: { include_usage: true } });
for await (const chunk of stream) {
  chunks++;
  if (chunk.usage) usage = chunk.usage;
  for (const choice of chunk.choices) {
    text += choice.text ?? "";
    if (choice.finish_reason) finish = choice.finish_reason;
  }
}
out.completion_stream = { text, finish_reason: finish, usage, chunks };

console.error("step: const chat = await client.chat.completions.create({ model, m");
const chat = await client.chat.completions.create({ model, messages: [{ role: "user", content: "Lily went to the park" }], max_tokens: 24, temperature: 0 });
out.chat = { content: chat.choices[0].message.content, role: chat.choices[0].message.role, finish_reason: chat.choices[0].finish_reason, usage: chat.usage, object: chat.object };

let content = "", chatFinish = null, role = null, chatUsage = null;
console.error("step: const chatStream = await client.chat.completions.create({ mo");
const chatStream = await client.chat.completions.create({ model, messages: [{ role: "user", content: "Lily went to the park" }], max_completion_tokens: 24, temperature: 0, stream: true, stream_options: { include_usage: true } });
for await (const chunk of chatStream) {
  if (chunk.usage) chatUsage = chunk.usage;
  for (const choice of chunk.choices) {
    if (choice.delta?.role) role = choice.delta.role;
    content += choice.delta?.content ?? "";
    if (choice.finish_reason) chatFinish = choice.finish_reason;
  }
}
out.chat_stream = { content, role, finish_reason: chatFinish, usage: chatUsage };

console.error("step: const stopped = await client.completions.create({ model, pro");
const stopped = await client.completions.create({ model, prompt: "Once upon a time", max_tokens: 200, temperature: 0, stop: ["."] });
out.stop = { text: stopped.choices[0].text, finish_reason: stopped.choices[0].finish_reason };

console.error("step: const ended = await client.completions.create({ model, promp");
const ended = await client.completions.create({ model, prompt: "The end.", max_tokens: 400, temperature: 0 });
out.end_of_text = { finish_reason: ended.choices[0].finish_reason, tokens: ended.usage.completion_tokens };

console.error("step: const many = await client.completions.create({ model, prompt");
const many = await client.completions.create({ model, prompt: "Tom", max_tokens: 8, temperature: 0.8, seed: 7, n: 3 });
out.n = { choices: many.choices.length, indexes: many.choices.map((x) => x.index).sort() };

console.error("step: const ids = await client.completions.create({ model, prompt:");
const ids = await client.completions.create({ model, prompt: [1, 403, 407, 261, 378], max_tokens: 8, temperature: 0 });
out.token_ids = { text: ids.choices[0].text, prompt_tokens: ids.usage.prompt_tokens };

console.error("step: await refusal('bad_temperature', () => client.completions.cr");
await refusal("bad_temperature", () => client.completions.create({ model, prompt: "x", temperature: -1 }));
console.error("step: await refusal('unknown_model', () => client.completions.crea");
await refusal("unknown_model", () => client.completions.create({ model: "no-such-model", prompt: "x" }));
console.error("step: await refusal('over_context', () => client.completions.creat");
await refusal("over_context", () => client.completions.create({ model, prompt: "word ".repeat(3000), max_tokens: 4 }));
console.error("step: await refusal('bad_token', () => client.completions.create({");
await refusal("bad_token", () => client.completions.create({ model, prompt: [1, 99999], max_tokens: 4 }));

console.log(JSON.stringify(out));
