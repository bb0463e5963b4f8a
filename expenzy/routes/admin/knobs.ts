import type { FastifyPluginAsync } from 'fastify';
import { knobPatchSchema, type Knobs } from '../../knobs.js';

const outageBody = {
  type: 'object',
  required: ['seconds'],
  additionalProperties: false,
  properties: { seconds: { type: 'number', minimum: 0 } },
} as const;

/** Read and turn the fault knobs while the simulator runs. */
export const adminKnobRoutes: FastifyPluginAsync<{ knobs: Knobs }> = async (app, { knobs }) => {
  app.get('/knobs', async () => knobs.view());

  // Validated with the knobs' own zod schema, the one the environment is read with.
  app.patch('/knobs', async (request, reply) => {
    const patch = knobPatchSchema.safeParse(request.body);
    if (!patch.success) {
      const issues = patch.error.issues.map((issue) => `${issue.path.join('.') || 'body'}: ${issue.message}`);
      return reply.code(400).send({ error: 'invalid knobs', issues });
    }
    knobs.update(patch.data);
    return knobs.view();
  });

  app.post<{ Body: { seconds: number } }>('/outage', { schema: { body: outageBody } }, async (request) => {
    knobs.startOutage(request.body.seconds);
    return knobs.view();
  });
};
