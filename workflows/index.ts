export { conversationWorkflow } from './conversation';
export { batchWorkflow, progressQuery } from './batch';
export { optimizeWorkflow } from './optimize';
export { evalWorkflow } from './eval';
export { profilesWorkflow } from './profiles';
export { captionWorkflow, categoryFilterWorkflow, indexWorkflow } from './catalog';
export { batchCollectorWorkflow, providerBatchWorkflow } from './provider-batches';
