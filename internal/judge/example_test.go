package judge_test

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/plume-evals/plume/internal/judge"
	"github.com/plume-evals/plume/internal/judge/judgetest"
)

func ExampleParse() {
	score, _, why, err := judge.Parse("```json\n{\"score\": 0.8, \"rationale\": \"Offered a refund.\"}\n```", judge.FormatScore)
	fmt.Println(*score, why, err)

	_, _, _, err = judge.Parse(`Sure! {"score": 0.8, "rationale": "Offered a refund."}`, judge.FormatScore)
	fmt.Println(err, judge.KindOf(err).Retryable())
	// Output:
	// 0.8 Offered a refund. <nil>
	// judge: malformed output: text before the JSON object (the answer must be the object alone) true
}

func ExampleSet_For() {
	set := judge.Set{OpenAI: judge.NewOpenAI("sk-example", "", nil)}
	if _, err := set.For("anthropic"); err != nil {
		fmt.Println(err)
	}
	// Output:
	// anthropic: misconfigured: provider is not configured in this deployment (set ANTHROPIC_API_KEY)
}

func ExamplePrices_Cost() {
	override, err := judge.ParsePrices(`{"my-local-model": {"input_per_mtok": 0, "output_per_mtok": 0}}`)
	if err != nil {
		panic(err)
	}
	prices := judge.DefaultPrices().Merge(override)
	usd, known := prices.Cost("gpt-4o-mini-2024-07-18", 12_000, 400)
	fmt.Printf("$%.6f %v\n", usd, known)
	_, known = prices.Cost("unpriced-model", 1, 1)
	fmt.Println(known)
	// Output:
	// $0.002040 true
	// false
}

// The judgetest servers speak the providers' wire formats; here an OpenAI
// judge is rate-limited once, then answers.
func ExampleNewOpenAI() {
	srv := judgetest.StartOpenAI(
		judgetest.RateLimited("2"),
		judgetest.Score(0.9, "The agent offered a refund.").WithUsage(250, 20),
	)
	defer srv.Close()

	p := judge.NewOpenAI("sk-example", srv.URL, &http.Client{Timeout: 10 * time.Second})
	req := judge.Request{
		Model:        "gpt-4o-mini",
		Instructions: "Did the agent offer a refund?",
		Format:       judge.FormatScore,
		Transcript:   []judge.Turn{{Role: "user", Content: "Refund please."}, {Role: "assistant", Content: "Done."}},
	}
	_, err := p.Judge(context.Background(), req)
	fmt.Println(err, judge.KindOf(err).Retryable())

	v, err := p.Judge(context.Background(), req)
	fmt.Println(*v.Score, v.Rationale, v.InputTokens, v.OutputTokens, err)
	// Output:
	// openai: 429 Too Many Requests: Too Many Requests (retry after 2s) true
	// 0.9 The agent offered a refund. 250 20 <nil>
}
