import type { AgentName } from '../schemas/agent-calls';
import type { PromptModule } from './prompt';
import acceptance from './acceptance';
import backstoryWriter from './backstory-writer';
import imageOpening from './image-opening';
import needsAnalyser from './needs-analyser';
import occasionAnswer from './occasion-answer';
import occasionQuestion from './occasion-question';
import outfitJudge from './outfit-judge';
import queryClarifier from './query-clarifier';
import queryMerger from './query-merger';
import recommendation from './recommendation';
import rejectReason from './reject-reason';
import rejection from './rejection';
import stylist from './stylist';
import systemChitChat from './system-chit-chat';
import textOpening from './text-opening';
import userChitChat from './user-chit-chat';
import itemCaptioner from './item-captioner';
import categoryFilter from './category-filter';
import profileGate from './profile-gate';
import utteranceRewriter from './utterance-rewriter';
import rewriteChecker from './rewrite-checker';
import qualityReviewer from './quality-reviewer';
import recommendationScreener from './recommendation-screener';
import datasetJudge from './dataset-judge';

/** One prompt per agent call; the type makes a missing one a compile error. */
export const PROMPTS: { [A in AgentName]: PromptModule<A> } = {
  backstoryWriter,
  textOpening,
  stylist,
  outfitJudge,
  imageOpening,
  occasionQuestion,
  occasionAnswer,
  userChitChat,
  systemChitChat,
  rejectReason,
  rejection,
  needsAnalyser,
  queryClarifier,
  queryMerger,
  recommendation,
  acceptance,
  itemCaptioner,
  categoryFilter,
  profileGate,
  utteranceRewriter,
  rewriteChecker,
  qualityReviewer,
  recommendationScreener,
  datasetJudge,
};
