#!/usr/bin/python3
"""model_ids.py TARGET_BYTES - Hugging Face model/dataset ids as training scripts print them.

Part of build_clean_corpus.sh.  No hub can be reached here, so this prints,
seeded, the lines that transformers/datasets/huggingface_hub/vLLM/timm print
around real, public model and dataset ids: hub cache paths with 40-hex snapshot
revisions and 64-hex blob names, checkpoint-shard loading, scan-cache tables,
download progress, resolved URLs.  Ids contain words like "token" or "key" only
where real ids do; no secret is printed.
"""
import random
import sys

r = random.Random(5)
MODELS = """meta-llama/Llama-2-7b-hf meta-llama/Llama-2-13b-chat-hf meta-llama/Llama-2-70b-hf meta-llama/Meta-Llama-3-8B
meta-llama/Meta-Llama-3-8B-Instruct meta-llama/Meta-Llama-3.1-70B-Instruct meta-llama/CodeLlama-7b-Python-hf
mistralai/Mistral-7B-v0.1 mistralai/Mistral-7B-Instruct-v0.2 mistralai/Mixtral-8x7B-Instruct-v0.1 google/gemma-2b google/gemma-7b-it
google/gemma-2-9b google/flan-t5-base google/flan-t5-xl google/t5-v1_1-large google/vit-base-patch16-224 google/electra-base-discriminator
google-bert/bert-base-uncased google-bert/bert-large-cased google-bert/bert-base-multilingual-cased FacebookAI/roberta-base
FacebookAI/roberta-large FacebookAI/xlm-roberta-large distilbert/distilbert-base-uncased distilbert/distilgpt2 openai-community/gpt2
openai-community/gpt2-xl openai/whisper-large-v3 openai/whisper-small openai/clip-vit-large-patch14 facebook/opt-1.3b
facebook/bart-large-cnn facebook/wav2vec2-base-960h facebook/dinov2-base facebook/nllb-200-distilled-600M facebook/sam-vit-huge
EleutherAI/pythia-70m EleutherAI/pythia-1.4b EleutherAI/pythia-12b EleutherAI/gpt-j-6b EleutherAI/gpt-neox-20b
tiiuae/falcon-7b tiiuae/falcon-40b-instruct Qwen/Qwen2-7B-Instruct Qwen/Qwen1.5-0.5B Qwen/Qwen2.5-Coder-7B-Instruct
microsoft/phi-2 microsoft/Phi-3-mini-4k-instruct microsoft/deberta-v3-base microsoft/resnet-50 microsoft/layoutlmv3-base
bigscience/bloom-560m bigscience/bloomz-7b1 bigcode/starcoder2-7b bigcode/santacoder HuggingFaceH4/zephyr-7b-beta
HuggingFaceTB/SmolLM-135M stabilityai/stable-diffusion-xl-base-1.0 stabilityai/stablelm-2-1_6b runwayml/stable-diffusion-v1-5
CompVis/stable-diffusion-v1-4 sentence-transformers/all-MiniLM-L6-v2 sentence-transformers/all-mpnet-base-v2
BAAI/bge-large-en-v1.5 BAAI/bge-m3 intfloat/e5-large-v2 thenlper/gte-base nomic-ai/nomic-embed-text-v1.5
allenai/longformer-base-4096 allenai/OLMo-7B databricks/dolly-v2-3b mosaicml/mpt-7b lmsys/vicuna-7b-v1.5
teknium/OpenHermes-2.5-Mistral-7B NousResearch/Llama-2-7b-hf TheBloke/Llama-2-7B-Chat-GPTQ TheBloke/Mistral-7B-Instruct-v0.2-AWQ
deepseek-ai/deepseek-coder-6.7b-instruct deepseek-ai/DeepSeek-V2-Lite 01-ai/Yi-6B internlm/internlm2-chat-7b
THUDM/chatglm3-6b Salesforce/blip-image-captioning-large Salesforce/codegen-350M-mono cardiffnlp/twitter-roberta-base-sentiment-latest
dslim/bert-base-NER nlptown/bert-base-multilingual-uncased-sentiment timm/vit_base_patch16_224.augreg2_in21k_ft_in1k
timm/resnet50.a1_in1k timm/convnext_small.fb_in22k_ft_in1k unsloth/llama-3-8b-bnb-4bit hf-internal-testing/tiny-random-gpt2
hf-internal-testing/llama-tokenizer""".split()
DATASETS = """tatsu-lab/alpaca Open-Orca/OpenOrca HuggingFaceH4/ultrachat_200k databricks/databricks-dolly-15k
wikitext Salesforce/wikitext openwebtext allenai/c4 squad rajpurkar/squad_v2 glue nyu-mll/glue imdb stanfordnlp/imdb
cnn_dailymail abisee/cnn_dailymail gsm8k openai/gsm8k cais/mmlu Rowan/hellaswag allenai/ai2_arc
mozilla-foundation/common_voice_11_0 librispeech_asr openslr/librispeech_asr HuggingFaceFW/fineweb-edu
bigcode/the-stack-dedup timdettmers/openassistant-guanaco yahma/alpaca-cleaned Anthropic/hh-rlhf
teknium/OpenHermes-2.5 lmsys/lmsys-chat-1m ILSVRC/imagenet-1k cifar10 uoft-cs/cifar10 mnist ylecun/mnist""".split()
FILES = ["config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
         "tokenizer.model", "vocab.json", "merges.txt", "model.safetensors.index.json", "pytorch_model.bin"]


def hx(n):
    return "%0*x" % (n, r.getrandbits(4 * n))


def main():
    target, out = int(sys.argv[1]), sys.stdout
    revs = {m: hx(40) for m in MODELS + DATASETS}
    while out.tell() < target:
        m = r.choice(MODELS)
        cache = "/root/.cache/huggingface/hub/models--%s" % m.replace("/", "--")
        snap = "%s/snapshots/%s" % (cache, revs[m])
        k = r.randrange(9)
        if k == 0:
            shards = r.choice((2, 3, 4, 8, 15, 30))
            for f in r.sample(FILES, 4):
                out.write("loading file %s from cache at %s/%s\n" % (f, snap, f))
            out.write("loading weights file model.safetensors from cache at %s/model.safetensors.index.json\n" % snap)
            out.write("Instantiating %sForCausalLM model under default dtype torch.bfloat16.\n" % m.split("/")[-1].split("-")[0].capitalize())
            out.write("Loading checkpoint shards: 100%%|██████████| %d/%d [00:%02d<00:00,  %.2fit/s]\n" % (shards, shards, r.randrange(60), r.random() * 3))
            out.write("All the weights of %sForCausalLM were initialized from the model checkpoint at %s.\n" % (m.split("/")[-1], m))
        elif k == 1:
            for f in r.sample(FILES, 3):
                out.write("%s/blobs/%s -> ../../blobs/%s\n" % (cache, hx(64) if f.endswith(("bin", "model", "safetensors")) else hx(40), hx(64)))
            out.write("%s/refs/main: %s\n" % (cache, revs[m]))
        elif k == 2:
            out.write("REPO ID%s REPO TYPE SIZE ON DISK NB FILES LAST_ACCESSED LAST_MODIFIED REFS LOCAL PATH\n" % (" " * 40))
            for mm in r.sample(MODELS, 6):
                out.write("%-47s model %11s %8d %s ago %s ago main /root/.cache/huggingface/hub/models--%s\n" % (
                    mm, "%.1fG" % (r.random() * 30), r.randrange(3, 40), r.choice(("2 days", "a week", "3 hours")), r.choice(("1 month", "2 weeks")), mm.replace("/", "--")))
        elif k == 3:
            d = r.choice(DATASETS)
            out.write("Downloading readme: 100%%|██████████| %.2fk/%.2fk [00:00<00:00, %.1fkB/s]\n" % ((x := r.random() * 20), x, r.random() * 900))
            out.write("Downloading data: 100%%|██████████| %dM/%dM [00:%02d<00:00, %.1fMB/s]\n" % ((y := r.randrange(1, 900)), y, r.randrange(60), r.random() * 100))
            out.write("Generating train split: 100%%|██████████| %d/%d [00:01<00:00, %d examples/s]\n" % ((z := r.randrange(1000, 10 ** 6)), z, r.randrange(10 ** 4, 10 ** 6)))
            out.write("Found cached dataset %s (/root/.cache/huggingface/datasets/%s/default/0.0.0/%s)\n" % (d.split("/")[-1], d.replace("/", "___"), revs[d]))
        elif k == 4:
            out.write("INFO %s llm_engine.py:%d] Initializing an LLM engine (v0.4.%d) with config: model='%s', speculative_config=None, tokenizer='%s', skip_tokenizer_init=False, tokenizer_mode=auto, revision=None, tokenizer_revision=None, trust_remote_code=False, dtype=torch.bfloat16, max_seq_len=%d, download_dir=None, load_format=LoadFormat.AUTO, tensor_parallel_size=%d, seed=0)\n" % (
                "05-%02d %02d:%02d:%02d" % (r.randrange(1, 29), r.randrange(24), r.randrange(60), r.randrange(60)), r.randrange(60, 200), r.randrange(4), m, m, r.choice((2048, 4096, 8192)), r.choice((1, 2, 4, 8))))
        elif k == 5:
            out.write("https://huggingface.co/%s/resolve/%s/%s\n" % (m, revs[m], r.choice(FILES)))
            out.write("hf_hub_download(repo_id='%s', filename='%s', revision='main') -> %s/%s\n" % (m, "config.json", snap, "config.json"))
        elif k == 6:
            out.write("$ huggingface-cli download %s --include '*.safetensors' --local-dir /models/%s\n" % (m, m.split("/")[-1]))
            out.write("Fetching %d files: 100%%|██████████| %d/%d [00:%02d<00:00, %.2fs/it]\n/models/%s\n" % ((q := r.randrange(2, 20)), q, q, r.randrange(60), r.random() * 9, m.split("/")[-1]))
        elif k == 7:
            out.write("model_name_or_path=%s, tokenizer_name=%s, dataset_name=%s, output_dir=/checkpoints/%s-sft, use_auth_token=False, token=None\n" % (
                m, m, r.choice(DATASETS), m.split("/")[-1].lower()))
        else:
            out.write("Model %s | params %.2fB | dtype bf16 | sha=%s | safetensors.sha256=%s\n" % (m, r.random() * 70, revs[m][:12], hx(64)))


if __name__ == "__main__":
    main()
