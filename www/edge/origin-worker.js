// A slow origin for the workerd tests: GET /item/:id answers after a delay.
export default {
  async fetch(request) {
    const id = new URL(request.url).pathname.split('/').pop();
    await new Promise((r) => setTimeout(r, 50));
    return new Response(`value of ${id} (origin)`);
  },
};
