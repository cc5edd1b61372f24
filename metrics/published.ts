/** What the paper reports for the published dataset (MUSE_METHOD.md): 7,000 conversations, 83,148 utterances. */
export const PUBLISHED_MUSE = { conversations: 7000, utterances: 83148, utterancesPerConversation: 11.88 };
