import { definePrompt, itemText } from './prompt';

export default definePrompt({
  agent: 'imageOpening',
  version: 'image-opening@1',
  role: 'manager',
  temperature: 0.2,
  sees: ['bought', 'target'],
  system:
    'You script the start of a conversation in which a shopper shows an online stylist a photo of something they own.',
  user: ({ user, bought, target }) => `Shopper: ${user.persona}
First image, which the shopper bought recently and shows in the chat:
${itemText(bought, 'Owned')}
Second image, what the shopper secretly hopes to find (never name it):
${itemText(target, 'Wanted')}

Write four turns in this order:
1. the assistant greets the shopper;
2. the shopper shares the photo of the owned item and asks for something to go with it;
3. the assistant suggests one visual feature that would complement it;
4. the shopper names one or two visual features of the wanted item (colour, pattern, shape) without naming the item.
Answer as JSON: {"utterances": [four strings]}.`,
});
