use super::*;

fn form<T: serde::de::DeserializeOwned>(query: &str) -> T {
    serde_urlencoded::from_str(query).expect("deserialisable form")
}

fn form_err<T: serde::de::DeserializeOwned + fmt::Debug>(query: &str) {
    assert!(serde_urlencoded::from_str::<T>(query).is_err(), "{query}");
}

fn authorize(query: &str) -> Result<AuthorizationRequest, AuthorizationRequestError> {
    AuthorizationRequest::try_from(form::<AuthorizationParams>(query))
}

const BASE: &str = "client_id=c1&redirect_uri=https%3A%2F%2Fapp.example.com%2Fcb";

fn authorize_with(extra: &str) -> Result<AuthorizationRequest, AuthorizationRequestError> {
    authorize(&format!("{BASE}&{extra}"))
}

fn url(s: &str) -> Url {
    Url::parse(s).expect("valid URL")
}

// --- response types -----------------------------------------------------------------------------

#[test]
fn response_types_are_an_unordered_set() {
    assert_eq!(
        "id_token code".parse::<ResponseTypes>(),
        "code id_token".parse::<ResponseTypes>()
    );
}

#[test]
fn response_types_display_in_canonical_order() {
    let parsed: ResponseTypes = "id_token code".parse().expect("valid");
    assert_eq!(parsed.to_string(), "code id_token");
}

#[test]
fn a_repeated_response_type_is_malformed() {
    assert_eq!(
        "code code".parse::<ResponseTypes>(),
        Err(ResponseTypeError::Malformed)
    );
}

#[test]
fn an_empty_response_type_value_is_malformed() {
    assert_eq!(
        "code  id_token".parse::<ResponseTypes>(),
        Err(ResponseTypeError::Malformed)
    );
}

#[test]
fn the_none_response_type_is_unsupported() {
    assert_eq!(
        "none".parse::<ResponseTypes>(),
        Err(ResponseTypeError::Unsupported)
    );
}

#[test]
fn response_types_are_case_sensitive() {
    assert_eq!(
        "Code".parse::<ResponseTypes>(),
        Err(ResponseTypeError::Unsupported)
    );
}

#[test]
fn code_defaults_to_the_query_response_mode() {
    let types: ResponseTypes = "code".parse().expect("valid");
    assert_eq!(types.default_response_mode(), ResponseMode::Query);
}

#[test]
fn an_id_token_defaults_to_the_fragment_response_mode() {
    let types: ResponseTypes = "code id_token".parse().expect("valid");
    assert_eq!(types.default_response_mode(), ResponseMode::Fragment);
}

// --- prompt -------------------------------------------------------------------------------------

#[test]
fn prompt_values_combine() {
    let prompt: Prompt = "login consent".parse().expect("valid");
    assert!(prompt.contains(PromptValue::Login));
    assert!(prompt.contains(PromptValue::Consent));
}

#[test]
fn prompt_none_alone_is_accepted() {
    let prompt: Prompt = "none".parse().expect("valid");
    assert!(prompt.contains(PromptValue::None));
}

#[test]
fn prompt_none_with_another_value_is_refused() {
    assert_eq!(
        "none login".parse::<Prompt>(),
        Err(PromptError::NoneWithOthers)
    );
}

#[test]
fn prompt_create_is_understood() {
    let prompt: Prompt = "create".parse().expect("valid");
    assert!(prompt.contains(PromptValue::Create));
}

#[test]
fn an_unknown_prompt_value_is_refused() {
    assert_eq!("register".parse::<Prompt>(), Err(PromptError::Unsupported));
}

#[test]
fn an_empty_prompt_value_is_refused() {
    assert_eq!("login ".parse::<Prompt>(), Err(PromptError::Unsupported));
}

// --- login hint ---------------------------------------------------------------------------------

#[test]
fn an_mxid_login_hint_on_this_server_gives_the_localpart() {
    assert_eq!(
        LoginHint::parse("mxid:@alice:example.com", "example.com"),
        Ok(LoginHint::MatrixUser {
            localpart: "alice".to_owned()
        })
    );
}

#[test]
fn an_mxid_login_hint_with_a_port_in_the_server_name_is_understood() {
    assert_eq!(
        LoginHint::parse("mxid:@alice:example.com:8448", "example.com:8448"),
        Ok(LoginHint::MatrixUser {
            localpart: "alice".to_owned()
        })
    );
}

#[test]
fn an_mxid_login_hint_on_another_server_is_refused() {
    assert_eq!(
        LoginHint::parse("mxid:@alice:evil.example", "example.com"),
        Err(LoginHintError::OtherServer)
    );
}

#[test]
fn an_mxid_login_hint_without_the_at_sign_is_refused() {
    assert_eq!(
        LoginHint::parse("mxid:alice:example.com", "example.com"),
        Err(LoginHintError::MalformedMatrixId)
    );
}

#[test]
fn an_mxid_login_hint_without_server_is_refused() {
    assert_eq!(
        LoginHint::parse("mxid:@alice", "example.com"),
        Err(LoginHintError::MalformedMatrixId)
    );
}

#[test]
fn an_mxid_login_hint_with_an_upper_case_localpart_is_refused() {
    assert_eq!(
        LoginHint::parse("mxid:@Alice:example.com", "example.com"),
        Err(LoginHintError::MalformedMatrixId)
    );
}

#[test]
fn an_mxid_login_hint_with_an_empty_localpart_is_refused() {
    assert_eq!(
        LoginHint::parse("mxid:@:example.com", "example.com"),
        Err(LoginHintError::MalformedMatrixId)
    );
}

#[test]
fn an_mxid_login_hint_longer_than_255_bytes_is_refused() {
    let hint = format!("mxid:@{}:example.com", "a".repeat(250));
    assert_eq!(
        LoginHint::parse(&hint, "example.com"),
        Err(LoginHintError::MalformedMatrixId)
    );
}

#[test]
fn an_email_login_hint_is_understood() {
    assert_eq!(
        LoginHint::parse("alice@example.com", "example.com"),
        Ok(LoginHint::Email("alice@example.com".to_owned()))
    );
}

#[test]
fn an_email_login_hint_with_a_space_is_refused() {
    assert_eq!(
        LoginHint::parse("alice @example.com", "example.com"),
        Err(LoginHintError::Unrecognised)
    );
}

#[test]
fn an_email_login_hint_with_two_at_signs_is_refused() {
    assert_eq!(
        LoginHint::parse("a@b@example.com", "example.com"),
        Err(LoginHintError::Unrecognised)
    );
}

#[test]
fn a_bare_username_login_hint_is_not_understood() {
    assert_eq!(
        LoginHint::parse("alice", "example.com"),
        Err(LoginHintError::Unrecognised)
    );
}

// --- authorization request ----------------------------------------------------------------------

#[test]
fn a_minimal_code_request_parses_with_query_mode_and_empty_scope() {
    let request = authorize_with("response_type=code").expect("valid");
    assert_eq!(request.client_id, "c1");
    assert_eq!(
        request.redirect_uri,
        Some(url("https://app.example.com/cb"))
    );
    assert_eq!(request.response_mode, ResponseMode::Query);
    assert!(request.scope.is_empty());
}

#[test]
fn a_full_element_x_style_request_parses() {
    let request = authorize_with(
        "response_type=code&response_mode=fragment&state=xyz&prompt=consent\
         &scope=openid%20urn%3Amatrix%3Aclient%3Aapi%3A*\
         &code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256\
         &login_hint=mxid%3A%40alice%3Aexample.com&ui_locales=fr%20en&max_age=300\
         &unknown_parameter=ignored",
    )
    .expect("valid");
    assert_eq!(request.response_mode, ResponseMode::Fragment);
    assert_eq!(request.state.as_deref(), Some("xyz"));
    assert!(request.scope.contains("openid"));
    assert!(request.pkce.is_some());
    assert_eq!(request.ui_locales, ["fr", "en"]);
    assert_eq!(request.max_age, Some(300));
    assert_eq!(
        request.login_hint.as_deref(),
        Some("mxid:@alice:example.com")
    );
}

#[test]
fn an_empty_parameter_counts_as_absent() {
    let request = authorize_with("response_type=code&state=").expect("valid");
    assert_eq!(request.state, None);
}

#[test]
fn a_repeated_parameter_is_refused() {
    form_err::<AuthorizationParams>(&format!("{BASE}&response_type=code&state=a&state=b"));
}

#[test]
fn a_missing_client_id_is_not_redirectable() {
    let error = authorize("response_type=code").expect_err("no client_id");
    assert_eq!(
        error,
        AuthorizationRequestError::MissingParameter("client_id")
    );
    assert!(!error.is_redirectable());
}

#[test]
fn an_unparseable_redirect_uri_is_not_redirectable() {
    let error = authorize("client_id=c1&redirect_uri=not%20a%20url&response_type=code")
        .expect_err("bad redirect_uri");
    assert_eq!(error, AuthorizationRequestError::InvalidRedirectUri);
    assert!(!error.is_redirectable());
}

#[test]
fn the_redirect_uri_may_be_omitted_outside_openid_connect() {
    let request = authorize("client_id=c1&response_type=code").expect("valid");
    assert_eq!(request.redirect_uri, None);
}

#[test]
fn the_redirect_uri_is_required_for_openid_connect() {
    assert_eq!(
        authorize("client_id=c1&response_type=code&scope=openid"),
        Err(AuthorizationRequestError::MissingParameter("redirect_uri"))
    );
}

#[test]
fn a_missing_response_type_is_invalid_request() {
    let error = authorize(BASE).expect_err("no response_type");
    assert_eq!(error.error_code(), ErrorCode::InvalidRequest);
    assert!(error.is_redirectable());
}

#[test]
fn the_token_response_type_is_unsupported() {
    let error = authorize_with("response_type=token").expect_err("implicit access token");
    assert_eq!(error.error_code(), ErrorCode::UnsupportedResponseType);
}

#[test]
fn code_token_is_unsupported() {
    let error = authorize_with("response_type=code%20token").expect_err("hybrid with token");
    assert_eq!(error.error_code(), ErrorCode::UnsupportedResponseType);
}

#[test]
fn an_unknown_response_type_is_unsupported() {
    let error = authorize_with("response_type=magic").expect_err("unknown");
    assert_eq!(error.error_code(), ErrorCode::UnsupportedResponseType);
}

#[test]
fn a_request_object_is_not_supported() {
    let error = authorize_with("response_type=code&request=eyJ").expect_err("request object");
    assert_eq!(error.error_code(), ErrorCode::RequestNotSupported);
}

#[test]
fn a_request_uri_is_not_supported() {
    let error =
        authorize_with("response_type=code&request_uri=https%3A%2F%2Fx").expect_err("request_uri");
    assert_eq!(error.error_code(), ErrorCode::RequestUriNotSupported);
}

#[test]
fn a_registration_parameter_is_not_supported() {
    let error = authorize_with("response_type=code&registration=%7B%7D").expect_err("registration");
    assert_eq!(error.error_code(), ErrorCode::RegistrationNotSupported);
}

#[test]
fn an_id_token_response_defaults_to_the_fragment_mode() {
    let request = authorize_with("response_type=code%20id_token&nonce=n").expect("valid");
    assert_eq!(request.response_mode, ResponseMode::Fragment);
}

#[test]
fn an_id_token_response_may_use_form_post() {
    let request =
        authorize_with("response_type=id_token&nonce=n&response_mode=form_post").expect("valid");
    assert_eq!(request.response_mode, ResponseMode::FormPost);
}

#[test]
fn an_id_token_response_in_the_query_is_refused() {
    assert_eq!(
        authorize_with("response_type=id_token&nonce=n&response_mode=query"),
        Err(AuthorizationRequestError::QueryModeWithFrontChannelToken)
    );
}

#[test]
fn an_id_token_response_requires_a_nonce() {
    assert_eq!(
        authorize_with("response_type=code%20id_token"),
        Err(AuthorizationRequestError::MissingParameter("nonce"))
    );
}

#[test]
fn an_unknown_response_mode_is_invalid_request() {
    let error =
        authorize_with("response_type=code&response_mode=web_message").expect_err("unknown mode");
    assert_eq!(error, AuthorizationRequestError::UnsupportedResponseMode);
    assert_eq!(error.error_code(), ErrorCode::InvalidRequest);
}

#[test]
fn a_malformed_scope_is_invalid_scope() {
    let error =
        authorize_with("response_type=code&scope=openid%20%20email").expect_err("bad scope");
    assert_eq!(error.error_code(), ErrorCode::InvalidScope);
}

#[test]
fn prompt_none_with_login_is_invalid_request() {
    let error = authorize_with("response_type=code&prompt=none%20login").expect_err("bad prompt");
    assert_eq!(error.error_code(), ErrorCode::InvalidRequest);
}

#[test]
fn a_negative_max_age_is_refused() {
    assert_eq!(
        authorize_with("response_type=code&max_age=-1"),
        Err(AuthorizationRequestError::InvalidMaxAge)
    );
}

#[test]
fn a_max_age_with_a_plus_sign_is_refused() {
    assert_eq!(
        authorize_with("response_type=code&max_age=%2B5"),
        Err(AuthorizationRequestError::InvalidMaxAge)
    );
}

#[test]
fn a_non_numeric_max_age_is_refused() {
    assert_eq!(
        authorize_with("response_type=code&max_age=soon"),
        Err(AuthorizationRequestError::InvalidMaxAge)
    );
}

#[test]
fn a_code_challenge_method_without_challenge_is_invalid_request() {
    let error =
        authorize_with("response_type=code&code_challenge_method=S256").expect_err("no challenge");
    assert_eq!(error.error_code(), ErrorCode::InvalidRequest);
}

#[test]
fn a_malformed_code_challenge_is_invalid_request() {
    let error =
        authorize_with("response_type=code&code_challenge=short&code_challenge_method=S256")
            .expect_err("short challenge");
    assert_eq!(error.error_code(), ErrorCode::InvalidRequest);
}

#[test]
fn the_error_response_mode_follows_a_valid_request() {
    let params: AuthorizationParams = form("response_type=code&response_mode=form_post");
    assert_eq!(params.error_response_mode(), ResponseMode::FormPost);
}

#[test]
fn the_error_response_mode_never_puts_an_id_token_request_in_the_query() {
    let params: AuthorizationParams = form("response_type=id_token&response_mode=query");
    assert_eq!(params.error_response_mode(), ResponseMode::Fragment);
}

#[test]
fn the_error_response_mode_falls_back_to_query() {
    let params: AuthorizationParams = form("response_type=bogus&response_mode=bogus");
    assert_eq!(params.error_response_mode(), ResponseMode::Query);
}

// --- authorization response ---------------------------------------------------------------------

fn response() -> AuthorizationResponse {
    AuthorizationResponse {
        code: Some("abc".to_owned()),
        id_token: None,
        state: Some("s t&".to_owned()),
        iss: "https://auth.example.com/".to_owned(),
    }
}

#[test]
fn a_query_response_appends_code_state_and_iss_to_the_query() {
    let redirect = response().redirect(
        &url("https://app.example.com/cb?keep=1"),
        ResponseMode::Query,
    );
    assert_eq!(
        redirect,
        AuthorizationRedirect::Redirect(url(
            "https://app.example.com/cb?keep=1&code=abc&state=s+t%26&iss=https%3A%2F%2Fauth.example.com%2F"
        ))
    );
}

#[test]
fn a_fragment_response_puts_the_parameters_in_the_fragment() {
    let redirect = response().redirect(&url("io.element:/callback"), ResponseMode::Fragment);
    assert_eq!(
        redirect,
        AuthorizationRedirect::Redirect(url(
            "io.element:/callback#code=abc&state=s+t%26&iss=https%3A%2F%2Fauth.example.com%2F"
        ))
    );
}

#[test]
fn a_form_post_response_returns_the_fields() {
    let redirect = response().redirect(&url("https://app.example.com/cb"), ResponseMode::FormPost);
    assert_eq!(
        redirect,
        AuthorizationRedirect::FormPost {
            action: url("https://app.example.com/cb"),
            fields: vec![
                ("code".to_owned(), "abc".to_owned()),
                ("state".to_owned(), "s t&".to_owned()),
                ("iss".to_owned(), "https://auth.example.com/".to_owned()),
            ],
        }
    );
}

#[test]
fn a_response_without_state_omits_it_but_keeps_iss() {
    let response = AuthorizationResponse {
        state: None,
        ..response()
    };
    let redirect = response.redirect(&url("https://app.example.com/cb"), ResponseMode::Query);
    assert_eq!(
        redirect,
        AuthorizationRedirect::Redirect(url(
            "https://app.example.com/cb?code=abc&iss=https%3A%2F%2Fauth.example.com%2F"
        ))
    );
}

#[test]
fn an_error_response_carries_error_description_state_and_iss() {
    let error = AuthorizationErrorResponse {
        error: ClientError::new(ErrorCode::AccessDenied).with_description("denied"),
        state: Some("xyz".to_owned()),
        iss: "https://auth.example.com/".to_owned(),
    };
    let redirect = error.redirect(&url("https://app.example.com/cb"), ResponseMode::Query);
    assert_eq!(
        redirect,
        AuthorizationRedirect::Redirect(url(
            "https://app.example.com/cb?error=access_denied&error_description=denied&state=xyz&iss=https%3A%2F%2Fauth.example.com%2F"
        ))
    );
}

// --- token request ------------------------------------------------------------------------------

fn token(query: &str) -> Result<TokenRequest, TokenRequestError> {
    TokenRequest::try_from(&form::<TokenParams>(query))
}

#[test]
fn an_authorization_code_request_parses() {
    assert_eq!(
        token(
            "grant_type=authorization_code&code=abc&redirect_uri=https%3A%2F%2Fapp.example.com%2Fcb&code_verifier=v"
        ),
        Ok(TokenRequest::AuthorizationCode {
            code: "abc".to_owned(),
            redirect_uri: Some(url("https://app.example.com/cb")),
            code_verifier: Some("v".to_owned()),
        })
    );
}

#[test]
fn an_authorization_code_request_without_code_is_invalid_request() {
    let error = token("grant_type=authorization_code").expect_err("no code");
    assert_eq!(error, TokenRequestError::MissingParameter("code"));
    assert_eq!(error.error_code(), ErrorCode::InvalidRequest);
}

#[test]
fn an_authorization_code_request_with_an_empty_code_is_invalid_request() {
    assert_eq!(
        token("grant_type=authorization_code&code="),
        Err(TokenRequestError::MissingParameter("code"))
    );
}

#[test]
fn a_refresh_request_parses_with_an_optional_scope() {
    assert_eq!(
        token("grant_type=refresh_token&refresh_token=mar_x&scope=openid"),
        Ok(TokenRequest::RefreshToken {
            refresh_token: "mar_x".to_owned(),
            scope: Some("openid".parse().expect("valid")),
        })
    );
}

#[test]
fn a_refresh_request_without_refresh_token_is_invalid_request() {
    assert_eq!(
        token("grant_type=refresh_token"),
        Err(TokenRequestError::MissingParameter("refresh_token"))
    );
}

#[test]
fn a_client_credentials_request_without_scope_has_the_empty_scope() {
    assert_eq!(
        token("grant_type=client_credentials&client_id=c&client_secret=s"),
        Ok(TokenRequest::ClientCredentials {
            scope: Scope::empty()
        })
    );
}

#[test]
fn a_device_code_request_parses() {
    assert_eq!(
        token("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code&device_code=d"),
        Ok(TokenRequest::DeviceCode {
            device_code: "d".to_owned()
        })
    );
}

#[test]
fn a_device_code_request_without_device_code_is_invalid_request() {
    assert_eq!(
        token("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code"),
        Err(TokenRequestError::MissingParameter("device_code"))
    );
}

#[test]
fn a_missing_grant_type_is_invalid_request() {
    assert_eq!(
        token("code=abc"),
        Err(TokenRequestError::MissingParameter("grant_type"))
    );
}

#[test]
fn the_password_grant_is_unsupported() {
    let error = token("grant_type=password&username=a&password=b").expect_err("password grant");
    assert_eq!(error.error_code(), ErrorCode::UnsupportedGrantType);
}

#[test]
fn the_implicit_grant_has_no_token_request() {
    assert_eq!(
        token("grant_type=implicit"),
        Err(TokenRequestError::UnsupportedGrantType)
    );
}

#[test]
fn a_malformed_scope_in_a_token_request_is_invalid_scope() {
    let error = token("grant_type=client_credentials&scope=%20").expect_err("bad scope");
    assert_eq!(error.error_code(), ErrorCode::InvalidScope);
}

#[test]
fn an_unparseable_redirect_uri_in_a_token_request_is_invalid_request() {
    assert_eq!(
        token("grant_type=authorization_code&code=c&redirect_uri=%2Fcb"),
        Err(TokenRequestError::InvalidRedirectUri)
    );
}

#[test]
fn client_credentials_in_the_body_are_captured() {
    let params: TokenParams =
        form("grant_type=client_credentials&client_id=c&client_secret=s&other=x");
    assert_eq!(params.client.client_id.as_deref(), Some("c"));
    assert_eq!(params.client.client_secret.as_deref(), Some("s"));
}

#[test]
fn a_client_assertion_is_captured() {
    let params: TokenParams = form(
        "grant_type=client_credentials&client_assertion=eyJ\
         &client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer",
    );
    assert_eq!(params.client.client_assertion.as_deref(), Some("eyJ"));
    assert_eq!(
        params.client.client_assertion_type.as_deref(),
        Some("urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
    );
}

#[test]
fn a_repeated_grant_type_is_refused() {
    form_err::<TokenParams>("grant_type=refresh_token&grant_type=client_credentials");
}

#[test]
fn a_repeated_client_secret_is_refused() {
    form_err::<TokenParams>("grant_type=client_credentials&client_secret=a&client_secret=b");
}

#[test]
fn grant_types_round_trip_through_their_wire_names() {
    for grant in [
        GrantType::AuthorizationCode,
        GrantType::Implicit,
        GrantType::RefreshToken,
        GrantType::ClientCredentials,
        GrantType::DeviceCode,
    ] {
        assert_eq!(grant.as_str().parse(), Ok(grant));
    }
}

// --- token response -----------------------------------------------------------------------------

#[test]
fn an_access_token_response_omits_absent_fields() {
    let response = AccessTokenResponse {
        access_token: "mat_x".to_owned(),
        token_type: AccessTokenType::Bearer,
        expires_in: Some(300),
        refresh_token: None,
        scope: None,
        id_token: None,
    };
    assert_eq!(
        serde_json::to_string(&response).expect("serialisable"),
        r#"{"access_token":"mat_x","token_type":"Bearer","expires_in":300}"#
    );
}

#[test]
fn an_access_token_response_serialises_every_field() {
    let response = AccessTokenResponse {
        access_token: "mat_x".to_owned(),
        token_type: AccessTokenType::Bearer,
        expires_in: Some(300),
        refresh_token: Some("mar_y".to_owned()),
        scope: Some("openid".parse().expect("valid")),
        id_token: Some("eyJ".to_owned()),
    };
    assert_eq!(
        serde_json::to_string(&response).expect("serialisable"),
        r#"{"access_token":"mat_x","token_type":"Bearer","expires_in":300,"refresh_token":"mar_y","scope":"openid","id_token":"eyJ"}"#
    );
}

#[test]
fn a_lower_case_bearer_token_type_is_accepted_when_reading_a_response() {
    let response: AccessTokenResponse =
        serde_json::from_str(r#"{"access_token":"a","token_type":"bearer"}"#).expect("valid");
    assert_eq!(response.token_type, AccessTokenType::Bearer);
}

// --- introspection and revocation ---------------------------------------------------------------

#[test]
fn an_inactive_introspection_response_is_only_active_false() {
    assert_eq!(
        serde_json::to_string(&IntrospectionResponse::inactive()).expect("serialisable"),
        r#"{"active":false}"#
    );
}

#[test]
fn an_active_introspection_response_serialises_its_fields() {
    let response = IntrospectionResponse {
        active: true,
        scope: Some("urn:matrix:client:api:*".parse().expect("valid")),
        client_id: Some("c1".to_owned()),
        username: Some("alice".to_owned()),
        token_type: Some(TokenTypeHint::AccessToken),
        exp: DateTime::from_timestamp(1_700_000_300, 0),
        expires_in: Some(300),
        iat: DateTime::from_timestamp(1_700_000_000, 0),
        sub: Some("01H".to_owned()),
        device_id: Some("ABCDEFGHIJ".to_owned()),
        ..IntrospectionResponse::default()
    };
    assert_eq!(
        serde_json::to_string(&response).expect("serialisable"),
        r#"{"active":true,"scope":"urn:matrix:client:api:*","client_id":"c1","username":"alice","token_type":"access_token","exp":1700000300,"expires_in":300,"iat":1700000000,"sub":"01H","device_id":"ABCDEFGHIJ"}"#
    );
}

#[test]
fn an_introspection_request_parses_its_token_and_hint() {
    let request: IntrospectionRequest = form("token=mat_x&token_type_hint=access_token");
    assert_eq!(request.token, "mat_x");
    assert_eq!(request.token_type_hint, Some(TokenTypeHint::AccessToken));
}

#[test]
fn an_unknown_token_type_hint_is_kept_as_unknown() {
    let request: IntrospectionRequest = form("token=mat_x&token_type_hint=id_token");
    assert_eq!(request.token_type_hint, Some(TokenTypeHint::Unknown));
}

#[test]
fn an_introspection_request_without_token_is_refused() {
    form_err::<IntrospectionRequest>("token_type_hint=access_token");
}

#[test]
fn an_introspection_request_with_an_empty_token_is_refused() {
    form_err::<IntrospectionRequest>("token=");
}

#[test]
fn an_introspection_request_with_two_tokens_is_refused() {
    form_err::<IntrospectionRequest>("token=a&token=b");
}

#[test]
fn a_revocation_request_captures_client_authentication() {
    let request: RevocationRequest = form("token=mar_x&client_id=c1");
    assert_eq!(request.token, "mar_x");
    assert_eq!(request.client.client_id.as_deref(), Some("c1"));
    assert_eq!(request.token_type_hint, None);
}

// --- device authorization -----------------------------------------------------------------------

#[test]
fn a_device_authorization_request_parses_its_scope() {
    let params: DeviceAuthorizationParams = form("client_id=c1&scope=openid");
    let request = DeviceAuthorizationRequest::try_from(&params).expect("valid");
    assert!(request.scope.contains("openid"));
    assert_eq!(params.client.client_id.as_deref(), Some("c1"));
}

#[test]
fn a_device_authorization_request_without_scope_has_the_empty_scope() {
    let params: DeviceAuthorizationParams = form("client_id=c1");
    let request = DeviceAuthorizationRequest::try_from(&params).expect("valid");
    assert!(request.scope.is_empty());
}

#[test]
fn a_device_authorization_request_with_a_malformed_scope_is_refused() {
    let params: DeviceAuthorizationParams = form("client_id=c1&scope=a%5Cb");
    assert!(DeviceAuthorizationRequest::try_from(&params).is_err());
}

#[test]
fn a_device_authorization_response_serialises_as_rfc_8628() {
    let response = DeviceAuthorizationResponse {
        device_code: "d".to_owned(),
        user_code: UserCode::parse("BCDFGHJK").expect("valid"),
        verification_uri: url("https://auth.example.com/link"),
        verification_uri_complete: Some(url("https://auth.example.com/link?code=BCDFGHJK")),
        expires_in: 1200,
        interval: Some(5),
    };
    assert_eq!(
        serde_json::to_string(&response).expect("serialisable"),
        r#"{"device_code":"d","user_code":"BCDF-GHJK","verification_uri":"https://auth.example.com/link","verification_uri_complete":"https://auth.example.com/link?code=BCDFGHJK","expires_in":1200,"interval":5}"#
    );
}

/// Moved from the model's tests when the model took this crate's types.
#[test]
fn response_modes_and_challenge_methods_round_trip_through_their_names() {
    for mode in [
        ResponseMode::Query,
        ResponseMode::Fragment,
        ResponseMode::FormPost,
    ] {
        assert_eq!(mode.as_str().parse::<ResponseMode>(), Ok(mode));
    }
    assert!("Query".parse::<ResponseMode>().is_err());
    for method in [
        crate::pkce::CodeChallengeMethod::Plain,
        crate::pkce::CodeChallengeMethod::S256,
    ] {
        assert_eq!(
            method
                .as_str()
                .parse::<crate::pkce::CodeChallengeMethod>()
                .ok(),
            Some(method)
        );
    }
    assert!("s256".parse::<crate::pkce::CodeChallengeMethod>().is_err());
}
