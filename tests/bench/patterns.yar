// The DLP patterns of patterns.txt as YARA regex strings, for ClamAV
// (clamscan -d patterns.yar): one rule per pattern, same order, same meaning.
// YARA has no (?:...) nor inline (?i): plain groups and the nocase modifier.
// Used by tests/bench/run_bench.py (make bench); keep the two files in step.

rule vigie_iban
{
    strings:
        $a = /\b[A-Z]{2}[0-9]{2}([ -]?[A-Z0-9]{4}){3,7}([ -]?[A-Z0-9]{1,3})?\b/
    condition:
        $a
}

rule vigie_fr_nir
{
    strings:
        $a = /\b[1-478][ .-]?[0-9]{2}[ .-]?(0[1-9]|1[0-2]|[2-9][0-9])[ .-]?([0-9]{2}|2[AB])[ .-]?[0-9]{3}[ .-]?[0-9]{3}[ .-]?[0-9]{2}\b/
    condition:
        $a
}

rule vigie_fr_rib
{
    strings:
        $a = /\b[0-9]{5} ?[0-9]{5} ?[0-9A-Z]{11} ?[0-9]{2}\b/
    condition:
        $a
}

rule vigie_card_visa
{
    strings:
        $a = /\b4[0-9]{3}([ -]?[0-9]{4}){3}\b/
    condition:
        $a
}

rule vigie_card_mastercard
{
    strings:
        $a = /\b(5[1-5][0-9]{2}|2[2-7][0-9]{2})([ -]?[0-9]{4}){3}\b/
    condition:
        $a
}

rule vigie_card_amex
{
    strings:
        $a = /\b3[47][0-9]{2}[ -]?[0-9]{6}[ -]?[0-9]{5}\b/
    condition:
        $a
}

rule vigie_card_other
{
    strings:
        $a = /\b(6011|65[0-9]{2}|35[0-9]{2})([ -]?[0-9]{4}){3}\b/
    condition:
        $a
}

rule vigie_email
{
    strings:
        $a = /\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b/
    condition:
        $a
}

rule vigie_phone_fr
{
    strings:
        $a = /(\+33[ .]?|0033[ .]?|\b0)[1-9]([ .-]?[0-9]{2}){4}\b/
    condition:
        $a
}

rule vigie_fr_tax_id
{
    strings:
        $a = /\b[0-3][0-9] ?[0-9]{2} ?[0-9]{3} ?[0-9]{3} ?[0-9]{3}\b/
    condition:
        $a
}

rule vigie_fr_driving_licence
{
    strings:
        $a = /\b[0-9]{2}([0-9]{2}|2[AB])[0-9]{8}\b/
    condition:
        $a
}

rule vigie_fr_health_id_rpps
{
    strings:
        $a = /\b10[0-9]{9}\b/
    condition:
        $a
}

rule vigie_fr_cni
{
    strings:
        $a = /\b[0-9]{2}(0[1-9]|1[0-2])[0-9A-Z]{3}[0-9]{5}\b/
    condition:
        $a
}

rule vigie_fr_passport
{
    strings:
        $a = /\b[0-9]{2}[A-Z]{2}[0-9]{5}\b/
    condition:
        $a
}

rule vigie_secret_key_pem
{
    strings:
        $a = /-----BEGIN (RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP |SSH2 ENCRYPTED )?PRIVATE KEY( BLOCK)?-----/
    condition:
        $a
}

rule vigie_secret_key_putty
{
    strings:
        $a = /PuTTY-User-Key-File-[0-9]/
    condition:
        $a
}

rule vigie_api_token_aws_id
{
    strings:
        $a = /\b(AKIA|ASIA)[A-Z0-9]{16}\b/
    condition:
        $a
}

rule vigie_api_token_aws_secret
{
    strings:
        $a = /aws_?secret_?access_?key["']?\s*[:=]\s*["']?[A-Za-z0-9\/+]{40}/ nocase
    condition:
        $a
}

rule vigie_api_token_github
{
    strings:
        $a = /\b(gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{50,})/
    condition:
        $a
}

rule vigie_api_token_gitlab_slack
{
    strings:
        $a = /\b(glpat-[A-Za-z0-9_-]{20}|xox[abprs]-[A-Za-z0-9-]{10,})/
    condition:
        $a
}

rule vigie_api_token_ai_stripe_google
{
    strings:
        $a = /\b(sk-(proj-|ant-)?[A-Za-z0-9_-]{20,}|[rs]k_live_[A-Za-z0-9]{20,}|AIza[A-Za-z0-9_-]{35})/
    condition:
        $a
}

rule vigie_api_token_assignment
{
    strings:
        $a = /(api[_-]?key|secret|token|access[_-]?key)["']?\s*[:=]\s*["']?[A-Za-z0-9\/+_.-]{16,}/ nocase
    condition:
        $a
}

rule vigie_api_token_bearer
{
    strings:
        $a = /\bbearer\s+[A-Za-z0-9._~+\/-]{20,}/ nocase
    condition:
        $a
}

rule vigie_password
{
    strings:
        $a = /(password|passwd|pwd|mot de passe|mdp)["']?\s*[:=]\s*["']?[^\s"']{4,}/ nocase
    condition:
        $a
}

rule vigie_password_url
{
    strings:
        $a = /[a-z][a-z0-9+.-]*:\/\/[^\/\s:@]+:[^\/\s:@]+@/
    condition:
        $a
}

rule vigie_marking
{
    strings:
        $a = /\b(confidentiel(le)?|diffusion restreinte|usage interne|internal use only|strictly confidential|secret d.fense|ne pas diffuser)\b/ nocase
    condition:
        $a
}

rule vigie_health
{
    strings:
        $a = /\b(diagnostic|ordonnance|posologie|ant.c.dents|pathologie|hospitalisation|allergie)\b/ nocase
    condition:
        $a
}
