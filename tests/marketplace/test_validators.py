import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from marketplace.validators import inspect_document, validate_credit_code

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"


@pytest.mark.parametrize(
    "code",
    [
        "91110000600037341L",  # a published business licence code
        "91330100MA27XL0E2G",
        " 9133 0100 MA27 XL0E 2G ",  # spaces are tolerated and removed
    ],
)
def test_valid_credit_codes_are_accepted_in_canonical_form(code):
    assert validate_credit_code(code) == code.replace(" ", "").strip()


def test_lower_case_is_normalised():
    assert validate_credit_code("91330100ma27xl0e2g") == "91330100MA27XL0E2G"


def test_wrong_check_character_is_refused():
    with pytest.raises(ValidationError) as exc:
        validate_credit_code("91110000600037341X")
    assert exc.value.code == "credit_code_checksum"


@pytest.mark.parametrize("code", ["9111000060003734", "91110000600037341LL", ""])
def test_wrong_length_is_refused(code):
    with pytest.raises(ValidationError) as exc:
        validate_credit_code(code)
    assert exc.value.code == "credit_code_length"


def test_forbidden_letters_are_refused():
    # I, O, S, V and Z are not in the GB 32100 alphabet.
    with pytest.raises(ValidationError) as exc:
        validate_credit_code("9111000060003734IO")
    assert exc.value.code == "credit_code_format"


def test_credit_code_error_is_bilingual():
    with translation.override("en"), pytest.raises(ValidationError) as en:
        validate_credit_code("91110000600037341X")
    with translation.override("zh-hans"), pytest.raises(ValidationError) as zh:
        validate_credit_code("91110000600037341X")
    assert "check character" in en.value.messages[0]
    assert "校验" in zh.value.messages[0]


def test_png_and_pdf_are_accepted_with_their_digest():
    import hashlib

    for name, content, mime in [("licence.png", PNG, "image/png"), ("licence.pdf", PDF, "application/pdf")]:
        info = inspect_document(SimpleUploadedFile(name, content))
        assert info == {
            "content_type": mime,
            "size": len(content),
            "sha256": hashlib.sha256(content).hexdigest(),
        }


def test_text_renamed_to_pdf_is_refused():
    with pytest.raises(ValidationError) as exc:
        inspect_document(SimpleUploadedFile("licence.pdf", b"just some text, not a PDF at all"))
    assert exc.value.code == "file_type"


def test_png_named_pdf_is_refused():
    with pytest.raises(ValidationError) as exc:
        inspect_document(SimpleUploadedFile("licence.pdf", PNG))
    assert exc.value.code == "file_extension"


def test_empty_file_is_refused():
    with pytest.raises(ValidationError) as exc:
        inspect_document(SimpleUploadedFile("licence.pdf", b""))
    assert exc.value.code == "file_empty"


def test_oversized_file_is_refused(settings):
    settings.CREDENTIAL_MAX_UPLOAD_BYTES = 1024
    with pytest.raises(ValidationError) as exc:
        inspect_document(SimpleUploadedFile("licence.pdf", PDF + b"0" * 2000))
    assert exc.value.code == "file_too_large"
    assert "1.0" in exc.value.messages[0] or "1024" in exc.value.messages[0]


def test_inspect_rewinds_the_file():
    upload = SimpleUploadedFile("licence.png", PNG)
    inspect_document(upload)
    assert upload.read() == PNG
